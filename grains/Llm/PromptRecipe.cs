using Praison.Orleans.Grains.Recipes;

namespace Praison.Orleans.Grains.Llm;

/// <summary>
/// The built-in recipe of a job with neither <c>recipe_name</c> nor an agents file (docs/api.md: PraisonAI's clients
/// from PraisonAI): its <c>prompt</c> sent to the configured LLM, with <c>config.system_prompt</c> (or
/// <c>instructions</c>) as the system prompt; the streamed answer is the result. A job with
/// <c>depends_on</c> sends its parents' results first, as context before the prompt.
/// </summary>
public sealed class PromptRecipe(LlmClient llm) : IRecipe
{
    public string Name => "prompt";

    public (SpecProblem? Problem, string? Prepared) Prepare(JobSpec spec) => (null, null); // recipe_config is not its

    public Task<RecipeOutput> RunAsync(RecipeContext context, CancellationToken cancellationToken) =>
        llm.CompleteAsync(
            context.ParentsContext() is { } parents ? $"{parents}\n\n{context.Prompt}" : context.Prompt,
            LlmClient.SystemPromptOf(context.Job.ConfigJson), context.Progress, cancellationToken);
}
