namespace Praison.Orleans.Client;

/// <summary>
/// A schedule to create (docs/api.md "Schedules"): its <see cref="Job"/> is submitted at each time
/// <see cref="Cron"/> names in <see cref="Timezone"/>; with a <see cref="Batch"/>, each firing makes that
/// batch with <see cref="Job"/> as its then job. Null fields take the server's defaults.
/// </summary>
public sealed record ScheduleRequest(string Cron, JobRequest Job)
{
    /// <summary>1–64 letters, digits, <c>_</c> or <c>-</c>; null: the server draws one.</summary>
    public string? ScheduleId { get; init; }

    /// <summary>An IANA time zone id; null: UTC.</summary>
    public string? Timezone { get; init; }

    /// <summary><c>skip</c> (default: no firing while its previous job is live) or <c>allow</c>.</summary>
    public string? Overlap { get; init; }

    /// <summary><c>one</c> (default: one firing for the latest time missed) or <c>none</c>.</summary>
    public string? CatchUp { get; init; }

    public bool? Paused { get; init; }
    public IReadOnlyList<JobRequest>? Batch { get; init; }
}

/// <summary>A change to a schedule: the fields given change, the others stay (an empty <see cref="Batch"/> takes the batch away).</summary>
public sealed record ScheduleUpdate
{
    public string? Cron { get; init; }
    public string? Timezone { get; init; }
    public JobRequest? Job { get; init; }
    public string? Overlap { get; init; }
    public string? CatchUp { get; init; }
    public bool? Paused { get; init; }
    public IReadOnlyList<JobRequest>? Batch { get; init; }
}

/// <summary>A schedule as the API shows it: what it was given, when it fires next, and what its firings did.</summary>
public sealed record ScheduleInfo(
    string ScheduleId,
    string Cron,
    string Timezone,
    JobRequest Job,
    string Overlap,
    string CatchUp,
    bool Paused,
    DateTimeOffset? NextRunAt,
    DateTimeOffset? LastRunAt,
    string? LastJobId,
    long Runs,
    long Skipped,
    string? LastError,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public IReadOnlyList<JobRequest>? Batch { get; init; }

    /// <summary>The batch of its last firing (a batch schedule's); <see cref="LastJobId"/> is then that batch's then job.</summary>
    public string? LastBatchId { get; init; }
}

/// <summary>A page of the tenant's schedules, newest first.</summary>
public sealed record SchedulePage(IReadOnlyList<ScheduleInfo> Schedules, int Total, int Page, int PageSize);
