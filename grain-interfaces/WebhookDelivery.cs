namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// Where a job's webhook stands; absent when the job has no <c>webhook_url</c>. Pending from submit
/// until it is delivered (<see cref="DeliveredAt"/>) or given up (<see cref="Error"/>); after a failed
/// round, <see cref="NextRoundAt"/> says when the next one may start.
/// </summary>
[GenerateSerializer, Immutable, Alias("Praison.WebhookDelivery")]
public sealed record WebhookDelivery(
    [property: Id(0)] bool Pending,
    [property: Id(1)] DateTimeOffset? DeliveredAt,
    [property: Id(2)] string? Error,
    [property: Id(3)] DateTimeOffset? NextRoundAt = null);
