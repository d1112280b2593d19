using Microsoft.Extensions.Options;
using Praison.Orleans.Grains.Execution;

namespace Praison.Orleans.Grains.Index;

/// <summary>
/// The job index of memory mode, in the silo's memory beside the job records (<see cref="MemoryJobStore"/>):
/// exactly as durable as they are. Writes are a few set operations under the tenant's lock, no grain
/// call; a page costs its depth, counts and totals cost nothing, and the sweep reads only what needs
/// it, however many jobs are retained (<see cref="TenantJobs"/>). A tenant's finished jobs past
/// <see cref="JobsOptions.MaxRetainedPerTenant"/> leave lists and counts at once, oldest first, and
/// their grains are told to remove them (the sweep tells them again should that be lost).
/// </summary>
public sealed class MemoryJobIndex(MemoryJobStore store, IOptions<JobsOptions> options, TimeProvider time, IGrainFactory grains) : IJobIndex
{
    public Task<JobIndexWrite?> UpsertAsync(JobIndexEntry entry, JobIndexWrite? previous = null)
    {
        var evicted = TenantOf(entry.Tenant).Upsert(entry, options.Value.MaxRetainedPerTenant);
        foreach (var jobId in evicted)
        {
            // One-way: the job's grain removes itself (and its entry) in a turn of its own.
            grains.JobRecovery(entry.Tenant, jobId).EvictAsync().Ignore();
        }

        return NothingToKeep;
    }

    private static readonly Task<JobIndexWrite?> NothingToKeep = Task.FromResult<JobIndexWrite?>(null);

    public Task RemoveAsync(string tenant, string jobId, DateTimeOffset createdAt, JobIndexWrite? previous = null)
    {
        if (store.Tenants.TryGetValue(tenant, out var jobs))
        {
            jobs.Remove(jobId);
        }

        return Task.CompletedTask;
    }

    public Task<JobListPage> QueryAsync(JobListQuery query) =>
        Task.FromResult(store.Tenants.TryGetValue(query.Tenant, out var jobs)
            ? jobs.Query(query, options.Value, time.GetUtcNow())
            : new JobListPage([], 0));

    public Task<JobStoreStats> StatsAsync(string tenant) =>
        Task.FromResult(store.Tenants.TryGetValue(tenant, out var jobs)
            ? jobs.Stats(options.Value, time.GetUtcNow())
            : new JobStoreStats(0, 0, Enum.GetValues<JobStatus>().ToDictionary(status => status, _ => 0)));

    public Task<int> LiveCountAsync(string tenant) =>
        Task.FromResult(store.Tenants.TryGetValue(tenant, out var jobs) ? jobs.LiveCount() : 0);

    public Task<IReadOnlyList<JobIndexEntry>> DueAsync(DateTimeOffset now) =>
        Task.FromResult<IReadOnlyList<JobIndexEntry>>([.. store.Tenants.Values.SelectMany(jobs => jobs.Due(options.Value, now))]);

    public Task<IReadOnlyList<JobIndexEntry>> EvictedAsync() =>
        Task.FromResult<IReadOnlyList<JobIndexEntry>>([.. store.Tenants.Values.SelectMany(jobs => jobs.Evicted())]);

    private TenantJobs TenantOf(string tenant) => store.Tenants.GetOrAdd(tenant, static _ => new TenantJobs());
}

/// <summary>Listing order: newest <see cref="JobSnapshot.CreatedAt"/> first, then job id, so pages never overlap.</summary>
public sealed class NewestFirst : IComparer<JobSnapshot>
{
    public static readonly NewestFirst Instance = new();

    public int Compare(JobSnapshot? x, JobSnapshot? y)
    {
        var byTime = y!.CreatedAt.CompareTo(x!.CreatedAt);
        return byTime != 0 ? byTime : string.CompareOrdinal(x.JobId, y.JobId);
    }
}
