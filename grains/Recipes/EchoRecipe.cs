namespace Praison.Orleans.Grains.Recipes;

/// <summary>Built-in <c>echo</c>: the result is the prompt.</summary>
public sealed class EchoRecipe : IRecipe
{
    public string Name => "echo";

    public Task<RecipeOutput> RunAsync(RecipeContext context, CancellationToken cancellationToken)
    {
        context.Progress.Report(new JobProgress(100, "echo", 1, 1));
        return Task.FromResult(RecipeOutput.FromText(context.Prompt));
    }
}
