using System.Diagnostics.CodeAnalysis;

namespace Praison.Orleans.GrainInterfaces;

[GenerateSerializer, Immutable, Alias("Praison.ScheduleReply")]
public sealed record ScheduleReply(
    [property: Id(0)] ScheduleCommandStatus Status,
    [property: Id(1)] ScheduleSnapshot? Schedule,
    [property: Id(2)] string? Field = null,
    [property: Id(3)] string? Error = null)
{
    /// <summary>Done, created, or already there: <see cref="Schedule"/> is it.</summary>
    [MemberNotNullWhen(true, nameof(Schedule))]
    public bool HasSchedule => Status is ScheduleCommandStatus.Done or ScheduleCommandStatus.Created or ScheduleCommandStatus.Exists;

    /// <summary>Refused (<see cref="ScheduleCommandStatus.Rejected"/> or <see cref="ScheduleCommandStatus.TooMany"/>): <see cref="Error"/> says why.</summary>
    [MemberNotNullWhen(true, nameof(Error))]
    public bool Refused => Status is ScheduleCommandStatus.Rejected or ScheduleCommandStatus.TooMany;
}
