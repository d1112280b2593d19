namespace Praison.Orleans.Grains.Jobs;

/// <summary>The transitions of a job's record (<see cref="JobTransitions"/>).</summary>
public enum JobTransitionKind
{
    Submit,
    NewEpoch,
    Start,
    Checkpoint,
    Succeed,
    Fail,
    Cancel,
    Hide,
    WebhookRound,
    AddDependant,
}

/// <summary>
/// What a transition made of a stored record: the changed copy to commit and the events to publish once
/// it is stored, or a refusal (<see cref="Next"/> null) saying why the record stays as it is.
/// </summary>
public readonly record struct JobTransition(JobTransitionKind Kind, JobRecord? Next, IReadOnlyList<JobEvent> Events, string? Refusal)
{
    public bool IsRefused => Next is null;

    public bool IsEnding => Kind is JobTransitionKind.Succeed or JobTransitionKind.Fail or JobTransitionKind.Cancel;

    internal static JobTransition Refuse(JobTransitionKind kind, string reason) => new(kind, null, [], reason);

    internal static JobTransition To(JobTransitionKind kind, JobRecord next, params IReadOnlyList<JobEvent> events) =>
        new(kind, next, events, null);
}

/// <summary>
/// A job's state machine, without IO (docs/architecture.md): each transition checks the state it may leave,
/// returns the changed copy of the record with the events it announces, or a refusal. The grain
/// (<see cref="JobGrain"/>) loads, commits and runs the effects; this type only decides. Every method
/// takes a copy of the stored record, which it may change and return.
/// </summary>
public static class JobTransitions
{
    /// <summary>A new job, queued: its status and progress announced under the first ids of epoch 1.</summary>
    public static JobTransition Submit(
        JobSpec spec, string? agentId, string? prepared, string? traceParent, DateTimeOffset now, JobEventIds ids)
    {
        var record = new JobRecord
        {
            Spec = spec,
            Status = JobStatus.Queued,
            CreatedAt = now,
            AgentId = agentId,
            Prepared = prepared,
            Reason = "submitted",
            Epoch = 1,
            TraceParent = traceParent,
        };
        record.StatusEventId = ids.Next(record.Epoch);
        record.ProgressEventId = ids.Next(record.Epoch);
        return JobTransition.To(
            JobTransitionKind.Submit, record,
            JobEvents.StatusEvent(record), JobEvents.ProgressEvent(record.ProgressEventId, record.Status, record.Progress));
    }

    /// <summary>
    /// A live job met by a new activation: a new epoch of event ids, so its ids never repeat ones a
    /// lost activation handed out after its last write. A finished job needs none (it hands out no more).
    /// </summary>
    public static JobTransition NewEpoch(JobRecord record, JobEventIds ids)
    {
        if (record.Status.IsTerminal())
        {
            return JobTransition.Refuse(JobTransitionKind.NewEpoch, "already ended");
        }

        record.Epoch++;
        record.StatusEventId = ids.Next(record.Epoch);
        record.ProgressEventId = ids.Next(record.Epoch);
        return JobTransition.To(JobTransitionKind.NewEpoch, record);
    }

    /// <summary>
    /// True when a job found running (its attempt lost) has used every attempt it may: it fails instead
    /// of starting another.
    /// </summary>
    public static bool AttemptsExhausted(JobRecord record, int maxAttempts) =>
        record.Status == JobStatus.Running && record.Attempt >= maxAttempts;

    /// <summary>
    /// Queued (or running, its attempt lost) → running: one more attempt. A job with <c>depends_on</c>
    /// keeps how its parents ended (<paramref name="parents"/>, on its first start), which its work receives.
    /// </summary>
    public static JobTransition Start(JobRecord record, DateTimeOffset now, JobEventIds ids, JobEnd[]? parents = null)
    {
        if (record.Status.IsTerminal())
        {
            return JobTransition.Refuse(JobTransitionKind.Start, "already ended");
        }

        record.Parents ??= parents;
        var resumed = record.Attempt > 0;
        record.Status = JobStatus.Running;
        record.StartedAt ??= now;
        record.Attempt++;
        record.Reason = resumed ? "resumed after the previous attempt was lost" : "started";
        record.StatusEventId = ids.Next(record.Epoch);
        return JobTransition.To(JobTransitionKind.Start, record, JobEvents.StatusEvent(record));
    }

    /// <summary>
    /// Stores the progress a running attempt reported (<paramref name="live"/>, already published under
    /// <paramref name="liveEventId"/>); nothing to announce.
    /// </summary>
    public static JobTransition Checkpoint(JobRecord record, JobProgress live, long liveEventId)
    {
        if (record.Status != JobStatus.Running)
        {
            return JobTransition.Refuse(JobTransitionKind.Checkpoint, "not running");
        }

        var advanced = record.Progress.Advance(live);
        if (advanced == record.Progress)
        {
            return JobTransition.Refuse(JobTransitionKind.Checkpoint, "no progress since the last checkpoint");
        }

        (record.Progress, record.ProgressEventId) = (advanced, liveEventId);
        return JobTransition.To(JobTransitionKind.Checkpoint, record);
    }

    /// <summary>The work's result: succeeded, progress at 100.</summary>
    public static JobTransition Succeed(
        JobRecord record, string resultJson, string metricsJson, JobProgress live, IEnumerable<JobEvent> published,
        DateTimeOffset now, JobEventIds ids) =>
        End(JobTransitionKind.Succeed, record, JobStatus.Succeeded, "the work succeeded", live, published, now, ids, ended =>
        {
            ended.Progress = ended.Progress with { Percentage = 100 };
            ended.ResultJson = resultJson;
            ended.MetricsJson = metricsJson;
        });

    /// <summary>Failed with <paramref name="error"/> (the work threw, timed out, attempts ran out, …).</summary>
    public static JobTransition Fail(
        JobRecord record, string error, string reason, JobProgress live, IEnumerable<JobEvent> published, DateTimeOffset now,
        JobEventIds ids) =>
        End(JobTransitionKind.Fail, record, JobStatus.Failed, reason, live, published, now, ids, ended => ended.Error = error);

    /// <summary>Cancelled through the API; whatever the work produces from now on is discarded.</summary>
    public static JobTransition Cancel(
        JobRecord record, JobProgress live, IEnumerable<JobEvent> published, DateTimeOffset now, JobEventIds ids) =>
        Cancel(record, "cancelled through the API", null, live, published, now, ids);

    /// <summary>
    /// Cancelled before it ran, because how the jobs it depends on ended means its <c>run_if</c> can no
    /// longer hold; <paramref name="error"/> says which job and why.
    /// </summary>
    public static JobTransition CancelByDependency(
        JobRecord record, string error, JobProgress live, IEnumerable<JobEvent> published, DateTimeOffset now, JobEventIds ids) =>
        Cancel(record, "its run_if can no longer hold", error, live, published, now, ids);

    private static JobTransition Cancel(
        JobRecord record, string reason, string? error, JobProgress live, IEnumerable<JobEvent> published, DateTimeOffset now,
        JobEventIds ids) =>
        End(JobTransitionKind.Cancel, record, JobStatus.Cancelled, reason, live, published, now, ids, ended =>
        {
            ended.CancelledAt = now;
            ended.CompletedAt = now;
            ended.Error = error;
        });

    /// <summary>
    /// Job <paramref name="dependantId"/> depends on this one, in whatever state this one is: recorded
    /// once, up to <paramref name="max"/>. Refused when it is recorded already (nothing to write) or when
    /// there are <paramref name="max"/>; the record then says which.
    /// </summary>
    public static JobTransition AddDependant(JobRecord record, string dependantId, int max)
    {
        var dependants = record.Dependants ?? [];
        if (dependants.Contains(dependantId, StringComparer.Ordinal))
        {
            return JobTransition.Refuse(JobTransitionKind.AddDependant, "already recorded");
        }

        if (dependants.Length >= max)
        {
            return JobTransition.Refuse(JobTransitionKind.AddDependant, "as many dependants as one job may have");
        }

        record.Dependants = [.. dependants, dependantId];
        return JobTransition.To(JobTransitionKind.AddDependant, record);
    }

    /// <summary>
    /// The one way into a terminal state. Announces, under ids rising in that order, the status, the
    /// progress (a new id even when unchanged, as a record's progress always has one; published only if
    /// it changed from <paramref name="live"/>, what watchers last saw) and the final event; keeps the
    /// coalesced history of <paramref name="published"/> and these in the record (<see cref="JobEvents.End"/>).
    /// A webhook, if the job has one, is pending from this write.
    /// </summary>
    private static JobTransition End(
        JobTransitionKind kind, JobRecord record, JobStatus status, string reason, JobProgress live, IEnumerable<JobEvent> published,
        DateTimeOffset now, JobEventIds ids, Action<JobRecord> details)
    {
        if (record.Status.IsTerminal())
        {
            return JobTransition.Refuse(kind, $"already {record.Status.ToWireName()}");
        }

        record.Status = status;
        record.Progress = record.Progress.Advance(live);
        record.Reason = reason;
        details(record);
        record.CompletedAt ??= now;
        record.StatusEventId = ids.Next(record.Epoch);
        record.ProgressEventId = ids.Next(record.Epoch);
        record.FinalEventId = ids.Next(record.Epoch);
        record.WebhookPending = record.Spec.WebhookUrl is not null;
        var ending = JobEvents.End(record, published, progressChanged: record.Progress != live);
        return JobTransition.To(kind, record, [.. ending, JobEvents.FinalEvent(record)]);
    }

    /// <summary>
    /// Removed for clients (deleted, or past its retention) while its webhook is pending: kept, hidden,
    /// until the webhook settles.
    /// </summary>
    public static JobTransition Hide(JobRecord record, string reason)
    {
        if (record.Removed)
        {
            return JobTransition.Refuse(JobTransitionKind.Hide, "already removed");
        }

        (record.Removed, record.Reason) = (true, reason);
        return JobTransition.To(JobTransitionKind.Hide, record);
    }

    /// <summary>
    /// How a webhook round went: delivered at <paramref name="now"/>, or failed with
    /// <paramref name="error"/> — pending again at <paramref name="nextRoundAt"/>, or given up when null.
    /// </summary>
    public static JobTransition WebhookRound(JobRecord record, string? error, DateTimeOffset? nextRoundAt, DateTimeOffset now)
    {
        if (!record.WebhookPending)
        {
            return JobTransition.Refuse(JobTransitionKind.WebhookRound, "no webhook pending");
        }

        var delivered = error is null;
        record.WebhookPending = !delivered && nextRoundAt is not null;
        record.WebhookRounds += delivered ? 0 : 1;
        record.WebhookRetryAt = record.WebhookPending ? nextRoundAt : null;
        record.WebhookDeliveredAt = delivered ? now : null;
        record.WebhookError = error;
        return JobTransition.To(JobTransitionKind.WebhookRound, record);
    }

    /// <summary>How the last webhook round of <paramref name="record"/> ended, as logs and metrics name it.</summary>
    public static string WebhookOutcome(JobRecord record) =>
        record.WebhookDeliveredAt is not null ? "delivered" : record.WebhookPending ? "retrying" : "given_up";
}

/// <summary>
/// The event ids one activation hands out: its epoch in the high 32 bits, a counter in the low. Not
/// thread-safe: used on the grain's scheduler only.
/// </summary>
public sealed class JobEventIds
{
    private uint _counter;

    public long Next(int epoch) => ((long)epoch << 32) | ++_counter;
}
