using System.Text;
using Praison.Orleans.Grains.Recipes;

namespace Praison.Orleans.Tests.Infrastructure;

/// <summary>A test recipe whose result is <c>recipe_config.bytes</c> characters of a repeating pattern.</summary>
public sealed class BigRecipe : IRecipe
{
    public const string RecipeName = "big";

    public string Name => RecipeName;

    public Task<RecipeOutput> RunAsync(RecipeContext context, CancellationToken cancellationToken) =>
        Task.FromResult(RecipeOutput.FromText(Pattern(context.Config.GetProperty("bytes").GetInt32())));

    public static string Pattern(int length)
    {
        var text = new StringBuilder(length);
        for (var i = 0; text.Length < length; i++)
        {
            text.Append(i.ToString("x8")).Append('|');
        }

        return text.ToString(0, length);
    }
}
