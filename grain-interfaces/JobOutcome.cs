namespace Praison.Orleans.GrainInterfaces;

/// <summary>A terminal job's outcome: the snapshot plus its result and metrics as JSON text.</summary>
[GenerateSerializer, Immutable, Alias("Praison.JobOutcome")]
public sealed record JobOutcome(
    [property: Id(0)] JobSnapshot Job,
    [property: Id(1)] string? ResultJson,
    [property: Id(2)] string MetricsJson);
