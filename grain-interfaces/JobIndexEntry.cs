namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// What the job index keeps of one job: enough to filter, order, count and list it. Written by the
/// job's grain on every transition; <see cref="Version"/> (the job's latest status event id) lets a
/// late write never overwrite a newer one. <see cref="Removed"/>: the job was deleted or expired while its
/// webhook was pending; it is not listed or counted, but stays due for the sweep until the webhook settles.
/// </summary>
[GenerateSerializer, Immutable, Alias("Praison.JobIndexEntry")]
public sealed record JobIndexEntry(
    [property: Id(0)] string Tenant,
    [property: Id(1)] JobSnapshot Job,
    [property: Id(2)] long Version,
    [property: Id(3)] bool HasIdempotencyKey,
    [property: Id(4)] bool Removed = false);
