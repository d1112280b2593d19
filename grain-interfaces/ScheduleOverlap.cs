namespace Praison.Orleans.GrainInterfaces;

/// <summary>What a firing does while the schedule's previous job is still queued or running. Wire contract: never renumber.</summary>
[GenerateSerializer, Alias("Praison.ScheduleOverlap")]
public enum ScheduleOverlap
{
    /// <summary>Skip this firing (wire: <c>skip</c>, the default).</summary>
    Skip = 0,

    /// <summary>Submit anyway (wire: <c>allow</c>).</summary>
    Allow = 1,
}
