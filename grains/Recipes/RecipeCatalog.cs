namespace Praison.Orleans.Grains.Recipes;

/// <summary>The recipes registered on this silo, by name.</summary>
public sealed class RecipeCatalog
{
    private readonly Dictionary<string, IRecipe> _byName;

    public RecipeCatalog(IEnumerable<IRecipe> recipes)
    {
        _byName = new Dictionary<string, IRecipe>(StringComparer.Ordinal);
        foreach (var recipe in recipes)
        {
            if (!_byName.TryAdd(recipe.Name, recipe))
            {
                throw new InvalidOperationException($"Two recipes are registered as '{recipe.Name}'.");
            }
        }
    }

    public IReadOnlyCollection<string> Names => _byName.Keys;

    public bool TryGet(string name, out IRecipe recipe) => _byName.TryGetValue(name, out recipe!);
}
