namespace Praison.Orleans.GrainInterfaces;

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
