using Microsoft.Extensions.Options;
using Praison.Orleans.Grains.Recipes;

namespace Praison.Orleans.Grains.Agents;

/// <summary>
/// The built-in recipe of a job with <c>agent_yaml</c> or <c>agent_file</c> (docs/api.md: PraisonAI's clients
/// PraisonAI). At submit it reads the file (confined to the agents folder) and parses it, refusing an
/// invalid inline one; the text read is kept with the job, so every attempt runs the file as submitted.
/// An <c>agent_file</c> that cannot be read is accepted and the job fails saying so, as PraisonAI's does.
/// Each attempt parses the kept text again, under the same bounds (nesting, aliases, tasks).
/// </summary>
public sealed class AgentsRecipe(AgentsFileReader files, AgentsRunner agents, IOptions<AgentsOptions> options) : IRecipe
{
    public string Name => "agents";

    public (SpecProblem? Problem, string? Prepared) Prepare(JobSpec spec)
    {
        string? yaml;
        string field;
        try
        {
            (yaml, field) = files.Load(spec);
        }
        catch (AgentsFileException outside)
        {
            return (new SpecProblem("agent_file", outside.Message, Unreadable: true), null);
        }

        if (yaml is null)
        {
            return (null, null); // an agent_file that could not be read: the job fails when it runs
        }

        try
        {
            AgentsDefinition.Parse(yaml, options.Value.MaxTasks);
            return (null, yaml);
        }
        catch (AgentsFileException invalid) when (field == "agent_yaml")
        {
            return (new SpecProblem(field, invalid.Message), null);
        }
        catch (AgentsFileException)
        {
            return (null, yaml); // an invalid agent_file fails the job, saying why, as PraisonAI's does
        }
    }

    public Task<RecipeOutput> RunAsync(RecipeContext context, CancellationToken cancellationToken) =>
        context.Prepared is { } yaml
            ? agents.RunAsync(AgentsDefinition.Parse(yaml, options.Value.MaxTasks), context.Prompt, context.ParentsContext(), context.Progress, cancellationToken)
            : throw new AgentsFileException(AgentsFileReader.NotFound(context.Job));
}
