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

/// <summary>A page request: newest first, optional filters.</summary>
[GenerateSerializer, Immutable, Alias("Praison.JobListQuery")]
public sealed record JobListQuery(
    [property: Id(0)] string Tenant,
    [property: Id(1)] JobStatus? Status,
    [property: Id(2)] string? SessionId,
    [property: Id(3)] int Page,
    [property: Id(4)] int PageSize);

[GenerateSerializer, Immutable, Alias("Praison.JobListPage")]
public sealed record JobListPage(
    [property: Id(0)] IReadOnlyList<JobSnapshot> Jobs,
    [property: Id(1)] int Total);

/// <summary>A tenant's stored jobs, counted.</summary>
[GenerateSerializer, Immutable, Alias("Praison.JobStoreStats")]
public sealed record JobStoreStats(
    [property: Id(0)] int TotalJobs,
    [property: Id(1)] int IdempotencyKeys,
    [property: Id(2)] IReadOnlyDictionary<JobStatus, int> StatusCounts);

/// <summary>
/// Lists and counts a tenant's jobs across the whole cluster. A stateless worker: every silo answers
/// locally from the job index, and no single grain sits on the submit path.
/// </summary>
[Alias("Praison.IJobQueryGrain")]
public interface IJobQueryGrain : IGrainWithIntegerKey
{
    [Alias("List")]
    Task<JobListPage> ListAsync(JobListQuery query);

    [Alias("Stats")]
    Task<JobStoreStats> StatsAsync(string tenant);

    /// <summary>How many of the tenant's jobs are queued or running, cluster-wide.</summary>
    [Alias("LiveCount")]
    Task<int> LiveCountAsync(string tenant);
}
