namespace Praison.Orleans.Grains.Recipes;

/// <summary>
/// Built-in <c>echo</c>: the result is the prompt — for a job with <c>depends_on</c>, preceded by its
/// parents' results as a prompt job would send them to its model (<see cref="RecipeContext.ParentsContext"/>).
/// </summary>
public sealed class EchoRecipe : IRecipe
{
    public string Name => "echo";

    public Task<RecipeOutput> RunAsync(RecipeContext context, CancellationToken cancellationToken)
    {
        context.Progress.Report(new JobProgress(100, "echo", 1, 1));
        return Task.FromResult(RecipeOutput.FromText(
            context.ParentsContext() is { } parents ? $"{parents}\n\n{context.Prompt}" : context.Prompt));
    }
}
