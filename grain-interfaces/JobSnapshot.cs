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
    [property: Id(10)] DateTimeOffset? CancelledAt,
    [property: Id(11)] WebhookDelivery? Webhook = null,
    [property: Id(12)] DateTimeOffset? ScheduledFor = null);

/// <summary>
/// Where a job's webhook stands; absent when the job has no <c>webhook_url</c>. Pending from submit
/// until it is delivered (<see cref="DeliveredAt"/>) or given up (<see cref="Error"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("Praison.WebhookDelivery")]
public sealed record WebhookDelivery(
    [property: Id(0)] bool Pending,
    [property: Id(1)] DateTimeOffset? DeliveredAt,
    [property: Id(2)] string? Error);

/// <summary>A terminal job's outcome: the snapshot plus its result and metrics as JSON text.</summary>
[GenerateSerializer, Immutable, Alias("Praison.JobOutcome")]
public sealed record JobOutcome(
    [property: Id(0)] JobSnapshot Job,
    [property: Id(1)] string? ResultJson,
    [property: Id(2)] string MetricsJson);
