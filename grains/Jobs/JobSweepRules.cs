using Praison.Orleans.Grains.Execution;

namespace Praison.Orleans.Grains.Jobs;

/// <summary>
/// What the sweep (<see cref="JobSweeperGrain"/>) and everyone who must agree with it ask of a job's
/// index snapshot: is it past its retention (<see cref="JobsOptions.Retention"/>), is it due for a
/// visit (<see cref="JobsOptions.SweepPeriod"/>).
/// </summary>
public static class JobSweepRules
{
    /// <summary>True when a job that ended at <paramref name="completedAt"/> is past its retention at <paramref name="now"/>.</summary>
    public static bool IsExpired(this JobsOptions options, DateTimeOffset? completedAt, DateTimeOffset now) =>
        completedAt is { } completed && completed + options.Retention <= now;

    /// <summary>True when <paramref name="job"/> has ended and is past its retention at <paramref name="now"/>.</summary>
    public static bool IsExpired(this JobsOptions options, JobSnapshot job, DateTimeOffset now) =>
        job.Status.IsTerminal() && options.IsExpired(job.CompletedAt, now);

    /// <summary>
    /// True when the sweep must visit <paramref name="job"/>: it is live (its silo may be gone) and not
    /// scheduled beyond the next sweep, its webhook is pending, or it is past its retention. A job
    /// scheduled later is left alone until the sweep before its time, which wakes it to wait the rest.
    /// </summary>
    public static bool IsDue(this JobsOptions options, JobSnapshot job, DateTimeOffset now) =>
        (!job.Status.IsTerminal() && !(job.Status == JobStatus.Queued && job.ScheduledFor > now + options.SweepPeriod))
        || job.Webhook is { Pending: true } || options.IsExpired(job, now);
}
