namespace Praison.Orleans.Grains.Jobs;

/// <summary>
/// The persisted state of one job; <see cref="JobGrain"/> is its only writer. An instance the grain
/// holds as stored is never changed: a change is made to a <see cref="Copy"/>, which replaces it once written.
/// </summary>
[GenerateSerializer, Alias("Praison.JobRecord")]
public sealed class JobRecord : Storage.ICommittedRecord<JobRecord>
{
    [Id(0)] public JobSpec Spec { get; set; } = null!;
    [Id(1)] public JobStatus Status { get; set; }
    [Id(2)] public JobProgress Progress { get; set; } = JobProgress.None;
    [Id(3)] public DateTimeOffset CreatedAt { get; set; }
    [Id(4)] public DateTimeOffset? StartedAt { get; set; }
    [Id(5)] public DateTimeOffset? CompletedAt { get; set; }
    [Id(6)] public DateTimeOffset? CancelledAt { get; set; }
    [Id(7)] public string? Error { get; set; }
    [Id(8)] public string? ResultJson { get; set; }
    [Id(9)] public string? MetricsJson { get; set; }

    /// <summary>Attempts started so far (0 while the job has never run).</summary>
    [Id(10)] public int Attempt { get; set; }

    [Id(11)] public string? AgentId { get; set; }

    /// <summary>Why the last transition happened, for operators reading storage or logs.</summary>
    [Id(12)] public string? Reason { get; set; }

    /// <summary>Raised on every activation of a live job, so event ids never repeat after a crash.</summary>
    [Id(13)] public int Epoch { get; set; }

    /// <summary>Id of the event that announced <see cref="Status"/>.</summary>
    [Id(14)] public long StatusEventId { get; set; }

    /// <summary>Id of the event that announced <see cref="Progress"/>.</summary>
    [Id(15)] public long ProgressEventId { get; set; }

    /// <summary>Id of the final event (result, error or cancelled), once terminal.</summary>
    [Id(16)] public long FinalEventId { get; set; }

    /// <summary>True from the terminal write until the webhook is delivered or given up (past the retry horizon).</summary>
    [Id(17)] public bool WebhookPending { get; set; }

    [Id(18)] public DateTimeOffset? WebhookDeliveredAt { get; set; }

    /// <summary>Why the last delivery failed, when it did.</summary>
    [Id(19)] public string? WebhookError { get; set; }

    /// <summary>
    /// What the job's recipe prepared at submit (<see cref="Recipes.IRecipe.Prepare"/>; for an agents file,
    /// its text as read then), so every attempt runs the same.
    /// </summary>
    [Id(20)] public string? Prepared { get; set; }

    /// <summary>
    /// Raised by every write. After a write that reported failure, the stored revision says whether it
    /// committed all the same (the ambiguous case: committed, then the reply was lost or refused).
    /// </summary>
    [Id(21)] public long Revision { get; set; }

    /// <summary>
    /// Deleted or expired while its webhook was still pending: gone for clients (404, not listed or
    /// counted), kept only until the webhook settles, then removed.
    /// </summary>
    [Id(22)] public bool Removed { get; set; }

    /// <summary>Delivery rounds that failed so far (each round is the sender's own retries).</summary>
    [Id(23)] public int WebhookRounds { get; set; }

    /// <summary>When the next delivery round may start, after a failed one; null: now.</summary>
    [Id(24)] public DateTimeOffset? WebhookRetryAt { get; set; }

    /// <summary>The W3C trace context of the request that submitted the job: its attempts and webhook join or link to that trace.</summary>
    [Id(25)] public string? TraceParent { get; set; }

    /// <summary>
    /// A finished job's events before its final one, coalesced (<see cref="JobEvents.End"/>: its status
    /// changes, and the progress it had reached at each), under the ids they were published with: a
    /// stream of the job read back from storage replays the states its watchers saw. Null while the job is live.
    /// </summary>
    [Id(26)] public JobEvent[]? History { get; set; }

    /// <summary>
    /// The jobs that depend on this one (<see cref="JobSpec.DependsOn"/>), in the order they were
    /// recorded, before each was created: one whose creation then failed is listed all the same, and is
    /// found missing when asked. Null when none.
    /// </summary>
    [Id(27)] public string[]? Dependants { get; set; }

    /// <summary>
    /// How the jobs this one depends on had ended when it was let run (with their results, which its work
    /// receives); null until then. From then on the job needs none of them.
    /// </summary>
    [Id(28)] public JobEnd[]? Parents { get; set; }

    /// <summary>A copy to change and write; every member is immutable, so a shallow copy is a full one.</summary>
    public JobRecord Copy() => (JobRecord)MemberwiseClone();

    /// <summary>
    /// The job <paramref name="jobId"/> as clients see it: this record, with <paramref name="liveProgress"/>
    /// (reported since the last checkpoint) added while it runs.
    /// </summary>
    public JobSnapshot Snapshot(string jobId, JobProgress liveProgress) => new(
        jobId,
        Status,
        Status == JobStatus.Running ? Progress.Advance(liveProgress) : Progress,
        CreatedAt,
        StartedAt,
        CompletedAt,
        AgentId,
        Spec.SessionId,
        Error,
        Math.Max(Attempt, 1),
        CancelledAt,
        Spec.WebhookUrl is null ? null : new WebhookDelivery(
            WebhookPending || !Status.IsTerminal(), WebhookDeliveredAt, WebhookError, WebhookRetryAt),
        Spec.RunAt,
        Spec.ScheduleId,
        Spec.Priority,
        Spec.ConcurrencyKey,
        BatchId: Spec.BatchId);
}
