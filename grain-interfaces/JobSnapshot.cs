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
    [property: Id(12)] DateTimeOffset? ScheduledFor = null,
    [property: Id(13)] string? ScheduleId = null,
    [property: Id(14)] int Priority = 0,
    [property: Id(15)] string? ConcurrencyKey = null,
    [property: Id(16)] string? Waiting = null,
    [property: Id(17)] IReadOnlyList<string>? DependsOn = null,
    [property: Id(18)] RunIf RunIf = RunIf.Succeeded,
    [property: Id(19)] IReadOnlyList<string>? WaitingFor = null,
    [property: Id(20)] IReadOnlyList<string>? Dependants = null,
    [property: Id(21)] string? BatchId = null);
