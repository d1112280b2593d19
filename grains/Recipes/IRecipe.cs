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

    Task<RecipeOutput> RunAsync(RecipeContext context, CancellationToken cancellationToken);
}

/// <summary>What a recipe receives for one attempt of one job.</summary>
/// <param name="Checkpoint">The progress the job had reached before this attempt (a resumed job
/// may skip the steps it already did).</param>
public sealed record RecipeContext(
    string JobId,
    string Prompt,
    JsonElement Config,
    string? SessionId,
    int Attempt,
    JobProgress Checkpoint,
    IProgress<JobProgress> Progress);

/// <summary>A recipe's result (a string or any JSON value) and optional metrics.</summary>
public sealed record RecipeOutput(JsonNode? Result, JsonObject? Metrics = null)
{
    public static RecipeOutput FromText(string text) => new(JsonValue.Create(text));
}
