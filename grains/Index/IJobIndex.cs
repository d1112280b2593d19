namespace Praison.Orleans.Grains.Index;

/// <summary>
/// The cluster-wide index of jobs behind listing, stats and the sweep (grains cannot be scanned). One
/// entry per job, written by the job's grain before its record at submit and again as it changes. Implementations: <see cref="MemoryJobIndex"/>
/// (in the silo's memory; memory mode) and <see cref="AzureTableJobIndex"/> (table rows; Azure mode).
/// </summary>
public interface IJobIndex
{
    /// <summary>
    /// Stores <paramref name="entry"/> unless the index already holds a newer version of that job.
    /// <paramref name="previous"/> is what this writer's last write of the job returned, if any: the
    /// next write can then skip reading what is stored.
    /// </summary>
    Task<JobIndexWrite?> UpsertAsync(JobIndexEntry entry, JobIndexWrite? previous = null);

    Task RemoveAsync(string tenant, string jobId, DateTimeOffset createdAt, JobIndexWrite? previous = null);

    /// <summary>The requested page, newest first by creation time, and how many jobs match in all.</summary>
    Task<JobListPage> QueryAsync(JobListQuery query);

    Task<JobStoreStats> StatsAsync(string tenant);

    /// <summary>How many of <paramref name="tenant"/>'s jobs are queued or running (for the live-jobs quota).</summary>
    Task<int> LiveCountAsync(string tenant);

    /// <summary>
    /// The entries of every tenant whose job has something left to do without being asked: live
    /// (queued or running), a webhook pending, removed (the job may be gone: the entry then goes too), or
    /// past its retention at <paramref name="now"/>.
    /// </summary>
    Task<IReadOnlyList<JobIndexEntry>> DueAsync(DateTimeOffset now);

    /// <summary>
    /// The entries this index evicted (<see cref="Execution.JobsOptions.MaxRetainedPerTenant"/>: no longer
    /// listed or counted) whose jobs are still there to remove. Memory mode only; none elsewhere.
    /// </summary>
    Task<IReadOnlyList<JobIndexEntry>> EvictedAsync() => Task.FromResult<IReadOnlyList<JobIndexEntry>>([]);
}

/// <summary>
/// What an index write left (Azure: the job row's ETag and its due row's key, with the version written
/// and what the row counts as), kept by the job's grain for its next write; a stale one costs a read,
/// never a wrong write.
/// </summary>
public sealed record JobIndexWrite(string ETag, string? DueRowKey, long Version, JobTally Counted);
