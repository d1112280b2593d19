namespace Praison.Orleans.Grains.Jobs;

/// <summary>What a job with <c>depends_on</c> does, given how its parents ended so far.</summary>
public enum DependencyVerdict
{
    /// <summary>Not decided yet: some parent is still live.</summary>
    Wait,

    /// <summary>Its <c>run_if</c> holds: it may run.</summary>
    Run,

    /// <summary>Its <c>run_if</c> can no longer hold: it ends cancelled.</summary>
    Cancel,
}

/// <summary>A <see cref="DependencyVerdict"/>, with why when it is <see cref="DependencyVerdict.Cancel"/>.</summary>
public readonly record struct DependencyDecision(DependencyVerdict Verdict, string? Reason = null);

/// <summary>
/// The rule of <see cref="RunIf"/>, without IO: decides from the ends known so far as early as it can
/// (a failed parent cancels a <c>succeeded</c> child at once; a succeeded one runs an
/// <c>any_succeeded</c> child at once), and always decides once every parent has ended. A missing
/// parent (removed before its end was learnt) counts as ended, not succeeded.
/// </summary>
public static class JobDependencies
{
    public static DependencyDecision Decide(RunIf runIf, IReadOnlyList<string> parents, IReadOnlyDictionary<string, JobEnd> ends)
    {
        var allEnded = parents.All(ends.ContainsKey);
        switch (runIf)
        {
            case RunIf.Finished:
                return new(allEnded ? DependencyVerdict.Run : DependencyVerdict.Wait);
            case RunIf.AnySucceeded:
                if (ends.Values.Any(end => end.Succeeded || end.SomeSucceeded))
                {
                    return new(DependencyVerdict.Run);
                }

                return allEnded
                    ? new(DependencyVerdict.Cancel, $"None of the jobs it depends on succeeded (run_if: any_succeeded): {Describe(ends[parents[0]])}")
                    : new(DependencyVerdict.Wait);
            default:
                // The first parent in depends_on order that ended otherwise: the same answer however the ends arrived.
                if (parents.FirstOrDefault(parent => ends.TryGetValue(parent, out var end) && !end.Succeeded) is { } failed)
                {
                    return new(DependencyVerdict.Cancel, $"A job it depends on did not succeed (run_if: succeeded): {Describe(ends[failed])}");
                }

                return new(allEnded ? DependencyVerdict.Run : DependencyVerdict.Wait);
        }
    }

    private static string Describe(JobEnd end) => end.Status switch
    {
        null => $"{end.JobId} no longer exists",
        JobStatus.Failed when end.Error is { Length: > 0 } error => $"{end.JobId} failed: {Shorten(error)}",
        var status => $"{end.JobId} {status.Value.ToWireName()}",
    };

    private static string Shorten(string text) => text.Length <= MaxErrorQuote ? text : text[..MaxErrorQuote] + "…";

    private const int MaxErrorQuote = 200;

    /// <summary>Job ids for a message: the first <see cref="MaxNamed"/>, and how many more.</summary>
    public static string Names(IReadOnlyCollection<string> jobIds) =>
        jobIds.Count <= MaxNamed ? string.Join(", ", jobIds) : $"{string.Join(", ", jobIds.Take(MaxNamed))} and {jobIds.Count - MaxNamed} more";

    private const int MaxNamed = 20;
}
