using System.Diagnostics;

namespace Praison.Orleans.Grains.Telemetry;

/// <summary>
/// The jobs' own spans (source <see cref="SourceName"/>): <c>job.run</c> for each attempt, around the
/// recipe and its outbound calls, and <c>job.webhook</c> for each delivery. A job's first attempt and
/// its webhook continue the trace of the request that submitted it; a resumed attempt (its silo died or
/// left) starts a trace of its own, linked to that one.
/// </summary>
public static class JobTracing
{
    public const string SourceName = "Praison.Orleans.Jobs";

    private static readonly ActivitySource Source = new(SourceName);

    /// <summary>The W3C trace context of the current activity, to store with a job at submit.</summary>
    public static string? CurrentTraceParent() => Activity.Current?.Id;

    /// <summary>Starts <c>job.run</c> for <paramref name="attempt"/>; null when nobody listens.</summary>
    public static Activity? StartRun(string jobId, string kind, int attempt, string? submittedTraceParent)
    {
        var submitted = Parse(submittedTraceParent);
        var activity = attempt == 1 || submitted == default
            ? Start("job.run", submitted, links: null)
            : Start("job.run", default, links: [new ActivityLink(submitted)]);
        return activity?.SetTag("job.id", jobId).SetTag("job.kind", kind).SetTag("job.attempt", attempt);
    }

    /// <summary>Starts <c>job.webhook</c> in the job's trace; null when nobody listens.</summary>
    public static Activity? StartWebhook(string jobId, string? submittedTraceParent) =>
        Start("job.webhook", Parse(submittedTraceParent), links: null)?.SetTag("job.id", jobId);

    /// <summary>
    /// A span whose parent is <paramref name="parent"/>, or a new trace when there is none: never a child of
    /// whatever happens to be current on the grain (a background attempt belongs to its job, not to the call
    /// that started or resumed it).
    /// </summary>
    private static Activity? Start(string name, ActivityContext parent, IEnumerable<ActivityLink>? links)
    {
        var current = Activity.Current;
        Activity.Current = null;
        try
        {
            return Source.StartActivity(name, ActivityKind.Internal, parent, tags: null, links: links);
        }
        finally
        {
            Activity.Current ??= current;
        }
    }

    private static ActivityContext Parse(string? traceParent) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, out var context) ? context : default;
}
