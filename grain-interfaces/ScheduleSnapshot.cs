namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// A schedule as clients see it: its spec, when it fires next (null while paused), and what its
/// firings did — how many submitted a job, how many were skipped (overlap, missed, or a job refused),
/// the last fire time handled, its job (a batch schedule's: the then job of its last batch, which it
/// names), and the last refusal's reason.
/// </summary>
[GenerateSerializer, Immutable, Alias("Praison.ScheduleSnapshot")]
public sealed record ScheduleSnapshot(
    [property: Id(0)] string ScheduleId,
    [property: Id(1)] ScheduleSpec Spec,
    [property: Id(2)] DateTimeOffset CreatedAt,
    [property: Id(3)] DateTimeOffset UpdatedAt,
    [property: Id(4)] DateTimeOffset? NextRunAt,
    [property: Id(5)] DateTimeOffset? LastRunAt,
    [property: Id(6)] string? LastJobId,
    [property: Id(7)] long Runs,
    [property: Id(8)] long Skipped,
    [property: Id(9)] string? LastError,
    [property: Id(10)] string? LastBatchId = null);
