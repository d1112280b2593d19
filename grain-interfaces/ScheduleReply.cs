namespace Praison.Orleans.GrainInterfaces;

[GenerateSerializer, Immutable, Alias("Praison.ScheduleReply")]
public sealed record ScheduleReply(
    [property: Id(0)] ScheduleCommandStatus Status,
    [property: Id(1)] ScheduleSnapshot? Schedule,
    [property: Id(2)] string? Field = null,
    [property: Id(3)] string? Error = null);
