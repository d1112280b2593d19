namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// A change to a schedule: each field given replaces the schedule's; null leaves it. An empty
/// <see cref="Batch"/> takes the batch away (each firing then submits its job alone).
/// </summary>
[GenerateSerializer, Immutable, Alias("Praison.SchedulePatch")]
public sealed record SchedulePatch(
    [property: Id(0)] string? Cron,
    [property: Id(1)] string? TimeZone,
    [property: Id(2)] JobSpec? Job,
    [property: Id(3)] ScheduleOverlap? Overlap,
    [property: Id(4)] ScheduleCatchUp? CatchUp,
    [property: Id(5)] bool? Paused,
    [property: Id(6)] IReadOnlyList<JobSpec>? Batch = null)
{
    public ScheduleSpec ApplyTo(ScheduleSpec spec) => new(
        Cron ?? spec.Cron, TimeZone ?? spec.TimeZone, Job ?? spec.Job, Overlap ?? spec.Overlap, CatchUp ?? spec.CatchUp, Paused ?? spec.Paused,
        Batch is null ? spec.Batch : Batch.Count == 0 ? null : Batch);
}
