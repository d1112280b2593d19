using Microsoft.Extensions.Options;
using Praison.Orleans.Grains.Execution;
using Praison.Orleans.Grains.Jobs;

namespace Praison.Orleans.Grains.Index;

/// <summary>
/// The job index of memory mode, in the silo's memory beside the job records (<see cref="MemoryJobStore"/>):
/// exactly as durable as they are. Writes are a dictionary update by job id, no grain call; queries
/// and stats scan the tenant's entries where they are asked.
/// </summary>
public sealed class MemoryJobIndex(MemoryJobStore store, IOptions<JobsOptions> options, TimeProvider time) : IJobIndex
{
    public Task<JobIndexWrite?> UpsertAsync(JobIndexEntry entry, JobIndexWrite? previous = null)
    {
        store.IndexEntries.GetOrAdd(entry.Tenant, static _ => new(StringComparer.Ordinal))
            .AddOrUpdate(entry.Job.JobId, entry, (_, known) => known.Version <= entry.Version ? entry : known);
        return NothingToKeep;
    }

    private static readonly Task<JobIndexWrite?> NothingToKeep = Task.FromResult<JobIndexWrite?>(null);

    public Task RemoveAsync(string tenant, string jobId, DateTimeOffset createdAt, JobIndexWrite? previous = null)
    {
        if (store.IndexEntries.TryGetValue(tenant, out var entries))
        {
            entries.TryRemove(jobId, out _);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// One pass over the tenant's entries: counts the matches and keeps only the newest
    /// <c>page × page_size</c> of them (a heap whose top is the oldest kept), so a first page of a
    /// large index costs no sort of all of it.
    /// </summary>
    public Task<JobListPage> QueryAsync(JobListQuery query)
    {
        var wanted = (int)Math.Min((long)query.Page * query.PageSize, int.MaxValue);
        var newest = new PriorityQueue<JobSnapshot, JobSnapshot>(OldestFirst);
        var total = 0;
        foreach (var entry in Kept(query.Tenant))
        {
            var job = entry.Job;
            if (!query.Matches(job))
            {
                continue;
            }

            total++;
            if (newest.Count < wanted)
            {
                newest.Enqueue(job, job);
            }
            else if (NewestFirst.Instance.Compare(job, newest.Peek()) < 0)
            {
                newest.EnqueueDequeue(job, job);
            }
        }

        var page = newest.UnorderedItems.Select(item => item.Element)
            .OrderBy(job => job, NewestFirst.Instance)
            .Skip((query.Page - 1) * query.PageSize)
            .ToList();
        return Task.FromResult(new JobListPage(page, total));
    }

    private static readonly Comparer<JobSnapshot> OldestFirst = Comparer<JobSnapshot>.Create((x, y) => NewestFirst.Instance.Compare(y, x));

    public Task<JobStoreStats> StatsAsync(string tenant)
    {
        var kept = Kept(tenant).ToList();
        var counts = Enum.GetValues<JobStatus>().ToDictionary(status => status, status => kept.Count(e => e.Job.Status == status));
        return Task.FromResult(new JobStoreStats(kept.Count, kept.Count(e => e.HasIdempotencyKey), counts));
    }

    public Task<int> LiveCountAsync(string tenant) =>
        Task.FromResult(EntriesOf(tenant).Count(e => !e.Job.Status.IsTerminal()));

    public Task<IReadOnlyList<JobIndexEntry>> DueAsync(DateTimeOffset now) =>
        Task.FromResult<IReadOnlyList<JobIndexEntry>>(store.IndexEntries.SelectMany(tenant => tenant.Value.Select(pair => pair.Value))
            .Where(e => options.Value.IsDue(e, now))
            .ToList());

    /// <summary>A tenant's entries, enumerated in place (<c>Values</c> would copy them all under every lock).</summary>
    private IEnumerable<JobIndexEntry> EntriesOf(string tenant) =>
        store.IndexEntries.TryGetValue(tenant, out var entries) ? entries.Select(pair => pair.Value) : [];

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
