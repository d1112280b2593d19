namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// A recurring job (docs/api.md: Schedules): fire <see cref="Job"/> at each time <see cref="Cron"/> names
/// in <see cref="TimeZone"/>. Read by the gateway; the cron, the zone, the interval and the job are
/// checked by the schedule's grain, which answers a bad one with the field it is about.
/// </summary>
[GenerateSerializer, Immutable, Alias("Praison.ScheduleSpec")]
public sealed record ScheduleSpec(
    [property: Id(0)] string Cron,
    [property: Id(1)] string TimeZone,
    [property: Id(2)] JobSpec Job,
    [property: Id(3)] ScheduleOverlap Overlap,
    [property: Id(4)] ScheduleCatchUp CatchUp,
    [property: Id(5)] bool Paused);
