using System.Text.Json;
using Praison.Orleans.Grains.Agents;
using Praison.Orleans.Grains.Llm;
using Praison.Orleans.Grains.Recipes;

namespace Praison.Orleans.Grains.Execution;

/// <summary>
/// What a job runs (docs/api.md: PraisonAI's clients) — the registered recipe its <c>recipe_name</c> names,
/// else the built-in agents recipe for an agents file, else the built-in prompt recipe — found by one
/// lookup (<see cref="RecipeOf"/>), prepared at submit and run per attempt the same way for all three.
/// </summary>
public sealed class JobExecutor(RecipeCatalog recipes, PromptRecipe prompt, AgentsRecipe agents)
{
    /// <summary>
    /// Checks at submit what only the silo knows (registered recipes, their configs, the agents file) and
    /// prepares what every attempt will run (<see cref="IRecipe.Prepare"/>).
    /// </summary>
    public (SpecProblem? Problem, string? Prepared) Prepare(JobSpec spec) =>
        RecipeOf(spec) is { } recipe
            ? recipe.Prepare(spec)
            : (new SpecProblem("recipe_name",
                $"Unknown recipe: {spec.RecipeName}. Registered recipes: {string.Join(", ", recipes.Names.Order(StringComparer.Ordinal))}"), null);

    /// <summary>The <c>agent_id</c> shown for a job: <c>recipe:{name}</c>, <c>yaml:{basename}</c>, or none for a prompt.</summary>
    public static string? AgentIdFor(JobSpec spec) => spec switch
    {
        { RecipeName: { } name } => $"recipe:{name}",
        { AgentYaml: not null } => "yaml:inline",
        { AgentFile: { } file } => $"yaml:{Path.GetFileName(file)}",
        _ => null,
    };

    public async Task<RecipeOutput> RunAsync(
        JobSpec spec, string? prepared, string jobId, int attempt, JobProgress checkpoint, IReadOnlyList<JobEnd> parents,
        IProgress<JobProgress> progress, CancellationToken cancellationToken)
    {
        var recipe = RecipeOf(spec) ?? throw new RecipeFailedException($"Recipe {spec.RecipeName} is not registered on this silo.");
        using var config = JsonDocument.Parse(spec.RecipeConfigJson);
        var context = new RecipeContext(jobId, spec.Prompt, config.RootElement, spec.SessionId, attempt, checkpoint, progress)
        {
            Job = spec,
            Prepared = prepared,
            Parents = parents,
        };
        return await recipe.RunAsync(context, cancellationToken);
    }

    /// <summary>The recipe <paramref name="spec"/> runs; null for a <c>recipe_name</c> not registered here.</summary>
    private IRecipe? RecipeOf(JobSpec spec) =>
        spec.RecipeName is { } name ? (recipes.TryGet(name, out var recipe) ? recipe : null)
        : spec.AgentYaml is not null || spec.AgentFile is not null ? agents
        : prompt;
}
