namespace Praison.Orleans.GrainInterfaces;

/// <summary>A job as its status endpoint shows it.</summary>
[GenerateSerializer, Immutable, Alias("Praison.JobSnapshot")]
public sealed record JobSnapshot(
    [property: Id(0)] string JobId,
    [property: Id(1)] JobStatus Status,
    [property: Id(2)] JobProgress Progress,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] DateTimeOffset? StartedAt,
    [property: Id(5)] DateTimeOffset? CompletedAt,
    [property: Id(6)] string? AgentId,
    [property: Id(7)] string? SessionId,
    [property: Id(8)] string? Error,
    [property: Id(9)] int Attempt,
    [property: Id(10)] DateTimeOffset? CancelledAt);

/// <summary>A terminal job's outcome: the snapshot plus its result and metrics as JSON text.</summary>
[GenerateSerializer, Immutable, Alias("Praison.JobOutcome")]
public sealed record JobOutcome(
    [property: Id(0)] JobSnapshot Job,
    [property: Id(1)] string? ResultJson,
    [property: Id(2)] string MetricsJson);
