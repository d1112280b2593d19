using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Praison.Orleans.Grains.Execution;
using Praison.Orleans.Grains.Jobs;

namespace Praison.Orleans.Grains.Index;

/// <summary>
/// The job index of memory mode, in the silo's memory beside the job records (<see cref="MemoryJobStore"/>):
/// exactly as durable as they are. Writes are a dictionary update by job id, no grain call; queries
/// and stats scan the tenant's entries where they are asked.
/// </summary>
public sealed class MemoryJobIndex(MemoryJobStore store, IOptions<JobExecutionOptions> options, TimeProvider time) : IJobIndex
{
    public Task UpsertAsync(JobIndexEntry entry)
    {
        store.IndexEntries.GetOrAdd(entry.Tenant, static _ => new(StringComparer.Ordinal))
            .AddOrUpdate(entry.Job.JobId, entry, (_, known) => known.Version <= entry.Version ? entry : known);
        return Task.CompletedTask;
    }

    public Task RemoveAsync(string tenant, string jobId, DateTimeOffset createdAt)
    {
        if (store.IndexEntries.TryGetValue(tenant, out var entries))
        {
            entries.TryRemove(jobId, out _);
        }

        return Task.CompletedTask;
    }

    public Task<JobListPage> QueryAsync(JobListQuery query)
    {
        var matches = Kept(query.Tenant)
            .Where(e => query.Status is not { } status || e.Job.Status == status)
            .Where(e => string.IsNullOrEmpty(query.SessionId) || e.Job.SessionId == query.SessionId)
            .Select(e => e.Job)
            .ToList();
        var page = matches.OrderBy(j => j, NewestFirst.Instance).Skip((query.Page - 1) * query.PageSize).Take(query.PageSize).ToList();
        return Task.FromResult(new JobListPage(page, matches.Count));
    }

    public Task<JobStoreStats> StatsAsync(string tenant)
    {
        var kept = Kept(tenant).ToList();
        var counts = Enum.GetValues<JobStatus>().ToDictionary(status => status, status => kept.Count(e => e.Job.Status == status));
        return Task.FromResult(new JobStoreStats(kept.Count, kept.Count(e => e.HasIdempotencyKey), counts));
    }

    public Task<int> LiveCountAsync(string tenant) =>
        Task.FromResult(EntriesOf(tenant).Count(e => !e.Job.Status.IsTerminal()));

    public Task<IReadOnlyList<JobIndexEntry>> DueAsync(DateTimeOffset now) =>
        Task.FromResult<IReadOnlyList<JobIndexEntry>>(store.IndexEntries.Values.SelectMany(entries => entries.Values)
            .Where(e => e.Removed || options.Value.IsDue(e.Job, now))
            .ToList());

    private IEnumerable<JobIndexEntry> EntriesOf(string tenant) =>
        store.IndexEntries.TryGetValue(tenant, out var entries) ? entries.Values : [];

    /// <summary>
    /// A tenant's entries clients see: one past its retention is gone even before its grain removes it,
    /// and one removed while its webhook is pending is kept for the sweep only.
    /// </summary>
    private IEnumerable<JobIndexEntry> Kept(string tenant)
    {
        var now = time.GetUtcNow();
        return EntriesOf(tenant).Where(e => !e.Removed && !options.Value.IsExpired(e.Job, now));
    }
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
