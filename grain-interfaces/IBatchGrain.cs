namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// One batch of jobs (docs/api.md "Batches"), keyed by <see cref="JobKeys.For"/> (tenant and batch id,
/// <c>bat_</c> + 12 hex): the jobs it was created with, their counts by status, and its <c>then</c> job,
/// which depends on it. As a parent (<see cref="IJobParent"/>) a batch ends once every one of its jobs has.
/// </summary>
[Alias("Praison.IBatchGrain")]
public interface IBatchGrain : IJobParent
{
    /// <summary>
    /// Stores the batch with every job's spec, then creates its jobs (and its then job) in the
    /// background: a batch whose silo is lost mid-way goes on creating where it stopped. Refused, nothing
    /// is stored; <see cref="BatchCommandStatus.IdTaken"/> when the id names a batch already.
    /// </summary>
    [Alias("Create")]
    Task<BatchReply> CreateAsync(BatchSpec spec);

    /// <summary>
    /// The batch once all its jobs are created, or as it is after about <paramref name="wait"/> (still
    /// creating); null when there is no such batch. Served between the batch's other calls.
    /// </summary>
    [Alias("AwaitCreated"), AlwaysInterleave]
    Task<BatchSnapshot?> AwaitCreatedAsync(TimeSpan wait);

    /// <summary>The batch and its counts, or null when there is no such batch.</summary>
    [Alias("Get")]
    Task<BatchSnapshot?> GetAsync();

    /// <summary>The ids of its jobs from <paramref name="skip"/>, at most <paramref name="take"/>, in the order they were given; null when there is no such batch.</summary>
    [Alias("JobIds")]
    Task<IReadOnlyList<string>?> JobIdsAsync(int skip, int take);

    /// <summary>
    /// Cancels every job of the batch still live (and jobs not yet created are not created), and its
    /// then job; <see cref="BatchCommandStatus.WrongState"/> once every job has ended.
    /// </summary>
    [Alias("Cancel")]
    Task<BatchReply> CancelAsync();

    /// <summary>
    /// Deletes the batch, its jobs and its then job; <see cref="BatchCommandStatus.WrongState"/> while
    /// any of them is live or a job still waits on the batch.
    /// </summary>
    [Alias("Delete")]
    Task<BatchReply> DeleteAsync();

    /// <summary>
    /// The batch now, then again each time its counts change (a watcher too slow for every change gets the
    /// latest), ending after the snapshot of its end. Empty when there is no such batch.
    /// </summary>
    [Alias("Watch")]
    IAsyncEnumerable<BatchSnapshot> WatchAsync(CancellationToken cancellationToken = default);

    /// <summary>Job <paramref name="jobId"/> of this batch is now <paramref name="status"/> (stored). One-way; lost, the batch asks the job.</summary>
    [Alias("JobChanged"), OneWay]
    Task JobChangedAsync(string jobId, JobStatus status);
}

/// <summary>What a batch is made of: its jobs, validated by the gateway, and the job to run after them.</summary>
[GenerateSerializer, Immutable, Alias("Praison.BatchSpec")]
public sealed record BatchSpec(
    [property: Id(0)] IReadOnlyList<JobSpec> Jobs,
    [property: Id(1)] JobSpec? Then)
{
    /// <summary>The most jobs one batch may have (one request).</summary>
    public const int MaxJobs = 10_000;
}

/// <summary>
/// A batch's jobs by status. <see cref="Missing"/>: jobs never created (cancelled with the batch before
/// their turn, or refused) or gone before the batch learnt how they ended.
/// </summary>
[GenerateSerializer, Immutable, Alias("Praison.BatchCounts")]
public sealed record BatchCounts(
    [property: Id(0)] int Queued,
    [property: Id(1)] int Running,
    [property: Id(2)] int Succeeded,
    [property: Id(3)] int Failed,
    [property: Id(4)] int Cancelled,
    [property: Id(5)] int Missing)
{
    /// <summary>Jobs that have ended (missing ones count as ended).</summary>
    public int Ended => Succeeded + Failed + Cancelled + Missing;
}

/// <summary>
/// A batch as its endpoint shows it. <see cref="Status"/>: queued until one of its jobs starts, running
/// until all have ended, then succeeded (all did), failed (one failed or is missing) or cancelled.
/// </summary>
[GenerateSerializer, Immutable, Alias("Praison.BatchSnapshot")]
public sealed record BatchSnapshot(
    [property: Id(0)] string BatchId,
    [property: Id(1)] JobStatus Status,
    [property: Id(2)] int Total,
    [property: Id(3)] BatchCounts Counts,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] DateTimeOffset? CompletedAt,
    [property: Id(6)] DateTimeOffset? CancelledAt,
    [property: Id(7)] string? ThenJobId,
    [property: Id(8)] bool Creating);

/// <summary>How a batch command ended: the batch as it then was, or why not.</summary>
[GenerateSerializer, Immutable, Alias("Praison.BatchReply")]
public sealed record BatchReply(
    [property: Id(0)] BatchCommandStatus Status,
    [property: Id(1)] BatchSnapshot? Batch,
    [property: Id(2)] string? Field = null,
    [property: Id(3)] string? Error = null);

/// <summary>How a batch command ended. Wire contract: never renumber; append new members.</summary>
[GenerateSerializer, Alias("Praison.BatchCommandStatus")]
public enum BatchCommandStatus
{
    Done = 0,
    NotFound = 1,

    /// <summary>Cancel of an ended batch; delete of a live one, or one a job still waits on (<see cref="BatchReply.Error"/> says which).</summary>
    WrongState = 2,

    /// <summary>Create under an id a batch has already.</summary>
    IdTaken = 3,

    /// <summary>Create refused: <see cref="BatchReply.Field"/> and <see cref="BatchReply.Error"/> say why.</summary>
    Rejected = 4,
}
