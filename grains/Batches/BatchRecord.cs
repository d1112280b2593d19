namespace Praison.Orleans.Grains.Batches;

/// <summary>
/// The persisted state of one batch; <see cref="BatchGrain"/> is its only writer. An instance the grain
/// holds as stored is never changed: a change is made to a <see cref="Copy"/> (with new arrays), which
/// replaces it once written.
/// </summary>
[GenerateSerializer, Alias("Praison.BatchRecord")]
public sealed class BatchRecord : Storage.ICommittedRecord<BatchRecord>
{
    /// <summary>Its jobs' ids, in the order they were given; drawn before any is created.</summary>
    [Id(0)] public string[] JobIds { get; set; } = null!;

    [Id(1)] public DateTimeOffset CreatedAt { get; set; }

    [Id(2)] public string? ThenJobId { get; set; }

    /// <summary>The specs of its jobs (in <see cref="JobIds"/> order) while they are being created; null once all are.</summary>
    [Id(3)] public JobSpec[]? Specs { get; set; }

    /// <summary>The then job's spec while it is being created.</summary>
    [Id(4)] public JobSpec? ThenSpec { get; set; }

    /// <summary>
    /// What the batch had learnt, at its last checkpoint, of each job (in <see cref="JobIds"/> order): a
    /// <see cref="BatchJobStates"/> state. Only ends are final; a live state is asked again after a restart.
    /// </summary>
    [Id(5)] public byte[] States { get; set; } = [];

    /// <summary>When every job had ended (and this record said how).</summary>
    [Id(6)] public DateTimeOffset? CompletedAt { get; set; }

    [Id(7)] public DateTimeOffset? CancelledAt { get; set; }

    /// <summary>Jobs other than the then job that depend on the batch (<see cref="JobSpec.DependsOn"/>), as recorded before each was created.</summary>
    [Id(8)] public string[]? Dependants { get; set; }

    [Id(9)] public long Revision { get; set; }

    public bool Creating => Specs is not null;

    /// <summary>A copy to change and write; arrays are replaced, never changed, so a shallow copy is a full one.</summary>
    public BatchRecord Copy() => (BatchRecord)MemberwiseClone();
}

/// <summary>
/// What a batch knows of one of its jobs, one byte each: a <see cref="JobStatus"/>, or
/// <see cref="Missing"/> (never created, or gone before its end was learnt). Knowledge only moves
/// forward: queued, then running, then an end, which is final.
/// </summary>
public static class BatchJobStates
{
    public const byte Missing = 5;

    /// <summary>The number of states (the counts' slots).</summary>
    public const int Count = 6;

    public static bool IsEnd(byte state) => state >= (byte)JobStatus.Succeeded;

    /// <summary>True when <paramref name="next"/> says more than <paramref name="known"/>.</summary>
    public static bool Advances(byte known, byte next) => !IsEnd(known) && (IsEnd(next) || next > known);

    public static BatchCounts Counts(int[] counts) => new(
        counts[(int)JobStatus.Queued], counts[(int)JobStatus.Running], counts[(int)JobStatus.Succeeded],
        counts[(int)JobStatus.Failed], counts[(int)JobStatus.Cancelled], counts[Missing]);
}
