using System.Collections.Concurrent;
using System.Diagnostics;
using Praison.Orleans.Grains.Recipes;

namespace Praison.Orleans.Bench;

/// <summary>A recipe that waits for its token and records the moment it observed it (a Stopwatch timestamp).</summary>
public sealed class BlockingRecipe : IRecipe
{
    public const string RecipeName = "bench-block";

    private static readonly ConcurrentDictionary<string, TaskCompletionSource> StartedJobs = new();
    private static readonly ConcurrentDictionary<string, TaskCompletionSource<long>> ObservedJobs = new();

    public string Name => RecipeName;

    public static Task Started(string jobId) => StartedJobs.GetOrAdd(jobId, _ => new()).Task;

    /// <summary>The <see cref="Stopwatch.GetTimestamp"/> at which the job's recipe saw its token fire.</summary>
    public static Task<long> Observed(string jobId) => ObservedJobs.GetOrAdd(jobId, _ => new()).Task;

    public async Task<RecipeOutput> RunAsync(RecipeContext context, CancellationToken cancellationToken)
    {
        StartedJobs.GetOrAdd(context.JobId, _ => new()).TrySetResult();
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            ObservedJobs.GetOrAdd(context.JobId, _ => new()).TrySetResult(Stopwatch.GetTimestamp());
            throw;
        }

        return RecipeOutput.FromText("");
    }
}
