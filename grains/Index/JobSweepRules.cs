using Praison.Orleans.Grains.Execution;

namespace Praison.Orleans.Grains.Index;

/// <summary>
/// What the sweep (<see cref="Jobs.JobSweeperGrain"/>) and everyone who must agree with it ask of a job's
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
    /// True when the sweep must visit the job of <paramref name="entry"/>: it is live (its silo may be
    /// gone) and not scheduled beyond the next sweep; it has ended with its webhook pending and that
    /// webhook's next round is due; it was removed (what is left of it goes); or it is past its
    /// retention. A job scheduled later is left alone until the sweep before its time, which wakes it to
    /// wait the rest; a webhook waiting for its next round, until that round's time.
    /// </summary>
    public static bool IsDue(this JobsOptions options, JobIndexEntry entry, DateTimeOffset now)
    {
        var job = entry.Job;
        if (!job.Status.IsTerminal())
        {
            return !(job.Status == JobStatus.Queued && job.ScheduledFor > now + options.SweepPeriod);
        }

        return job.Webhook is { Pending: true } webhook
            ? !(webhook.NextRoundAt > now)
            : entry.Removed || options.IsExpired(job, now);
    }

    /// <summary>
    /// The earliest time <see cref="IsDue"/> may hold for <paramref name="entry"/> (the Azure index keys
    /// its due row by it): at once while live, a sweep period before a scheduled start, a pending
    /// webhook's next round, at once when removed, a finished job's retention end.
    /// </summary>
    public static DateTimeOffset DueAt(this JobsOptions options, JobIndexEntry entry)
    {
        var job = entry.Job;
        if (!job.Status.IsTerminal())
        {
            return job.Status == JobStatus.Queued && job.ScheduledFor is { } at ? at - options.SweepPeriod : DateTimeOffset.MinValue;
        }

        return job.Webhook is { Pending: true } webhook ? webhook.NextRoundAt ?? DateTimeOffset.MinValue
            : entry.Removed ? DateTimeOffset.MinValue
            : (job.CompletedAt ?? job.CreatedAt) + options.Retention;
    }
}
