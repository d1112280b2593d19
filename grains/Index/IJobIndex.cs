namespace Praison.Orleans.Grains.Index;

/// <summary>
/// The cluster-wide index of jobs behind listing and stats (grains cannot be scanned). One entry per
/// job, written on each transition by the job's grain. Implementations: <see cref="ShardedGrainJobIndex"/>
/// (shard grains in the job storage; memory mode) and <see cref="AzureTableJobIndex"/> (table rows; Azure mode).
/// </summary>
public interface IJobIndex
{
    /// <summary>Stores <paramref name="entry"/> unless the index already holds a newer version of that job.</summary>
    Task UpsertAsync(JobIndexEntry entry);

    Task RemoveAsync(string tenant, string jobId, DateTimeOffset createdAt);

    /// <summary>The requested page, newest first by creation time, and how many jobs match in all.</summary>
    Task<JobListPage> QueryAsync(JobListQuery query);

    Task<JobStoreStats> StatsAsync(string tenant);
}
