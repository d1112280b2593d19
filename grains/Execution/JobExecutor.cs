using System.Text.Json;
using Praison.Orleans.Grains.Agents;
using Praison.Orleans.Grains.Llm;
using Praison.Orleans.Grains.Recipes;

namespace Praison.Orleans.Grains.Execution;

/// <summary>
/// A submit that this silo cannot run, with the request field it is about; <paramref name="Unreadable"/>
/// when the field points at something that cannot be read rather than being invalid itself.
/// </summary>
public sealed record SpecProblem(string Field, string Message, bool Unreadable = false);

/// <summary>
/// Decides what a job runs (README: Use it from PraisonAI) and runs it: a registered recipe when <c>recipe_name</c> is set,
/// otherwise the LLM path (agents file or plain prompt).
/// </summary>
public sealed class JobExecutor(RecipeCatalog recipes, LlmClient llm, AgentsFiles agentsFiles, AgentsRunner agents)
{

    /// <summary>
    /// Checks at submit what only the silo knows — registered recipes and their configs, the agents
    /// file — and reads the agents file, so every attempt runs the file as it was at submit.
    /// </summary>
    public (SpecProblem? Problem, string? AgentsYaml) Prepare(JobSpec spec)
    {
        if (spec.RecipeName is { } name)
        {
            if (!recipes.TryGet(name, out var recipe))
            {
                var known = string.Join(", ", recipes.Names.Order(StringComparer.Ordinal));
                return (new SpecProblem("recipe_name", $"Unknown recipe: {name}. Registered recipes: {known}"), null);
            }

            using var config = JsonDocument.Parse(spec.RecipeConfigJson);
            return recipe.ValidateConfig(config.RootElement) is { } problem
                ? (new SpecProblem("recipe_config", problem), null)
                : (null, null);
        }

        if (spec.AgentYaml is null && spec.AgentFile is null)
        {
            return (null, null);
        }

        string? yaml;
        string field;
        try
        {
            (yaml, field) = agentsFiles.Load(spec);
        }
        catch (AgentsFileException outside)
        {
            return (new SpecProblem("agent_file", outside.Message, Unreadable: true), null);
        }

        if (field == "agent_file")
        {
            return (null, yaml); // accepted as PraisonAI does: a missing or invalid file fails the job, saying why
        }

        try
        {
            AgentsFile.Parse(yaml!);
            return (null, yaml);
        }
        catch (AgentsFileException invalid)
        {
            return (new SpecProblem(field, invalid.Message), null);
        }
    }

    /// <summary>The <c>agent_id</c> shown for a job: <c>recipe:{name}</c>, <c>yaml:{basename}</c>, or none for a prompt.</summary>
    public static string? AgentIdFor(JobSpec spec) => spec switch
    {
        { RecipeName: { } name } => $"recipe:{name}",
        { AgentYaml: not null } => "yaml:inline",
        { AgentFile: { } file } => $"yaml:{Path.GetFileName(file)}",
        _ => null,
    };

    public async Task<RecipeOutput> RunAsync(
        JobSpec spec, string? agentsYaml, string jobId, int attempt, JobProgress checkpoint, IProgress<JobProgress> progress,
        CancellationToken cancellationToken)
    {
        if (spec.RecipeName is null)
        {
            return (agentsYaml, spec) switch
            {
                (null, { AgentYaml: null, AgentFile: null }) =>
                    await llm.CompleteAsync(spec.Prompt, LlmClient.SystemPromptOf(spec.ConfigJson), progress, cancellationToken),
                (null, _) => throw new AgentsFileException(AgentsFiles.NotFound(spec)),
                _ => await agents.RunAsync(AgentsFile.Parse(agentsYaml), spec.Prompt, progress, cancellationToken),
            };
        }

        if (!recipes.TryGet(spec.RecipeName, out var recipe))
        {
            throw new RecipeFailedException($"Recipe {spec.RecipeName} is not registered on this silo.");
        }

        using var config = JsonDocument.Parse(spec.RecipeConfigJson);
        var context = new RecipeContext(
            jobId, spec.Prompt, config.RootElement, spec.SessionId, attempt, checkpoint, progress);
        return await recipe.RunAsync(context, cancellationToken);
    }
}
