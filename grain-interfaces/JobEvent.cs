namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// One change of a job, as watchers see it. <see cref="Id"/> grows with every event of a job, across
/// activations too (the high 32 bits are the activation epoch), so a watcher resumes after the last
/// id it saw without repeats.
/// </summary>
[GenerateSerializer, Immutable, Alias("Praison.JobEvent")]
public sealed record JobEvent(
    [property: Id(0)] long Id,
    [property: Id(1)] JobEventKind Kind,
    [property: Id(2)] JobStatus Status,
    [property: Id(3)] double Percentage,
    [property: Id(4)] string? Step,
    [property: Id(5)] string? Text)
{
    /// <summary>The last event of a job: its result, error or cancellation.</summary>
    public bool IsFinal => Kind is JobEventKind.Result or JobEventKind.Error or JobEventKind.Cancelled;
}
