namespace Praison.Orleans.Grains.Recipes;

/// <summary>Thrown by a recipe to fail its job with <see cref="Exception.Message"/> as the error.</summary>
public sealed class RecipeFailedException(string message) : Exception(message);
