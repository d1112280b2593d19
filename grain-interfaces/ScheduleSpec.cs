namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// A recurring job (docs/api.md: Schedules): fire <see cref="Job"/> at each time <see cref="Cron"/> names
/// in <see cref="TimeZone"/> — or, with <see cref="Batch"/>, a batch of those jobs with <see cref="Job"/>
/// as its then job. Read by the gateway; the cron, the zone, the interval and the jobs are checked by the
/// schedule's grain, which answers a bad one with the field it is about.
/// </summary>
[GenerateSerializer, Immutable, Alias("Praison.ScheduleSpec")]
public sealed record ScheduleSpec(
    [property: Id(0)] string Cron,
    [property: Id(1)] string TimeZone,
    [property: Id(2)] JobSpec Job,
    [property: Id(3)] ScheduleOverlap Overlap,
    [property: Id(4)] ScheduleCatchUp CatchUp,
    [property: Id(5)] bool Paused,
    [property: Id(6)] IReadOnlyList<JobSpec>? Batch = null)
{
    /// <summary>The most jobs a schedule's batch may have (each firing makes them all).</summary>
    public const int MaxBatchJobs = 1_000;
}
