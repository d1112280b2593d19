using System.Text.Json;
using System.Text.Json.Nodes;


namespace Praison.Orleans.Grains.Recipes;

/// <summary>
/// A named piece of work a job can run (<c>recipe_name</c>). Register one on the silo with
/// <c>services.AddRecipe&lt;T&gt;()</c>. <see cref="RunAsync"/> runs off the grain scheduler; it must
/// honour the token (cancel, timeout, silo shutdown) and may report progress at any rate.
/// </summary>
public interface IRecipe
{
    /// <summary>The name callers use in <c>recipe_name</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Checks <c>recipe_config</c> at submit, so a bad config is a 422 rather than a failed job.
    /// Returns the problem, or null when the config is fine.
    /// </summary>
    string? ValidateConfig(JsonElement config) => null;

    /// <summary>
    /// Checks and prepares a job at submit, on the silo: a problem refuses the submit (422 naming its
    /// field, or 400 when the field points at something unreadable); what it returns as
    /// <c>Prepared</c> is stored with the job and handed to every attempt (<see cref="RecipeContext.Prepared"/>),
    /// so an attempt runs what was there at submit (a file read then, say). By default: <see cref="ValidateConfig"/>.
    /// </summary>
    (SpecProblem? Problem, string? Prepared) Prepare(JobSpec spec)
    {
        using var config = JsonDocument.Parse(spec.RecipeConfigJson);
        return (ValidateConfig(config.RootElement) is { } problem ? new SpecProblem("recipe_config", problem) : null, null);
    }

    Task<RecipeOutput> RunAsync(RecipeContext context, CancellationToken cancellationToken);
}

/// <summary>What a recipe receives for one attempt of one job.</summary>
/// <param name="JobId">The job's id.</param>
/// <param name="Prompt">The job's <c>prompt</c>.</param>
/// <param name="Config">The job's <c>recipe_config</c> (an empty object when it gave none).</param>
/// <param name="SessionId">The job's <c>session_id</c>, if any.</param>
/// <param name="Attempt">This attempt's number, from 1.</param>
/// <param name="Progress">Where the recipe reports its progress (checkpointed to storage now and then).</param>
/// <param name="Checkpoint">The progress the job had reached before this attempt (a resumed job
/// may skip the steps it already did).</param>
public sealed record RecipeContext(
    string JobId,
    string Prompt,
    JsonElement Config,
    string? SessionId,
    int Attempt,
    JobProgress Checkpoint,
    IProgress<JobProgress> Progress)
{
    /// <summary>The job as it was submitted.</summary>
    public required JobSpec Job { get; init; }

    /// <summary>What <see cref="IRecipe.Prepare"/> kept at submit; null when it kept nothing.</summary>
    public string? Prepared { get; init; }

    /// <summary>
    /// How the jobs this one depends on (<c>depends_on</c>) had ended when it was let run, in
    /// <c>depends_on</c> order: each one's status, and its result (JSON text) if it succeeded. Empty for a
    /// job that depends on nothing; an <c>any_succeeded</c> job sees those ended by then.
    /// </summary>
    public IReadOnlyList<JobEnd> Parents { get; init; } = [];

    /// <summary>
    /// The results of the <see cref="Parents"/> that succeeded as context for a model: a heading, then each
    /// one's id and result (a string result as its text); null when there are none.
    /// </summary>
    public string? ParentsContext()
    {
        var succeeded = Parents.Where(parent => parent.Succeeded).ToList();
        if (succeeded.Count == 0)
        {
            return null;
        }

        var text = new System.Text.StringBuilder("Results of the jobs this one depends on:");
        foreach (var parent in succeeded)
        {
            text.AppendLine().Append('[').Append(parent.JobId).AppendLine("]").Append(JobResults.Text(parent.ResultJson));
        }

        return text.ToString();
    }
}

/// <summary>A recipe's result (a string or any JSON value) and optional metrics.</summary>
public sealed record RecipeOutput(JsonNode? Result, JsonObject? Metrics = null)
{
    public static RecipeOutput FromText(string text) => new(JsonValue.Create(text));
}
