namespace Praison.Orleans.Grains.Recipes;

/// <summary>
/// A submit that this silo cannot run, with the request field it is about; <paramref name="Unreadable"/>
/// when the field points at something that cannot be read rather than being invalid itself.
/// </summary>
public sealed record SpecProblem(string Field, string Message, bool Unreadable = false);
