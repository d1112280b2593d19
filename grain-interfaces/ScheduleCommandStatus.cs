namespace Praison.Orleans.GrainInterfaces;

/// <summary>How a schedule command ended.</summary>
[GenerateSerializer, Alias("Praison.ScheduleCommandStatus")]
public enum ScheduleCommandStatus
{
    Done = 0,
    Created = 1,
    NotFound = 2,

    /// <summary>A schedule with this id exists (create).</summary>
    Exists = 3,

    /// <summary>The spec is refused; <see cref="ScheduleReply.Field"/> names the field.</summary>
    Rejected = 4,

    /// <summary>The tenant has as many schedules as it may (<c>Schedules:MaxPerTenant</c>).</summary>
    TooMany = 5,
}
