using Microsoft.Extensions.Options;
using Praison.Orleans.Grains.Execution;

namespace Praison.Orleans.Grains.Index;

/// <summary>One shard of the index entries (key: the shard number), kept by tenant.</summary>
[Alias("Praison.IJobIndexShardGrain")]
public interface IJobIndexShardGrain : IGrainWithIntegerKey
{
    [Alias("Upsert")]
    Task UpsertAsync(JobIndexEntry entry);

    [Alias("Remove")]
    Task RemoveAsync(string tenant, string jobId);

    /// <summary>The shard's first <c>query.Page × query.PageSize</c> matches, newest first, and its match count.</summary>
    [Alias("Query")]
    Task<JobListPage> QueryAsync(JobListQuery query);

    [Alias("Stats")]
    Task<JobStoreStats> StatsAsync(string tenant);

    [Alias("LiveCount")]
    Task<int> LiveCountAsync(string tenant);

    /// <summary>The shard's entries the sweep must visit (see <see cref="IJobIndex.DueAsync"/>).</summary>
    [Alias("Due")]
    Task<List<JobIndexEntry>> DueAsync(DateTimeOffset now);
}

/// <summary>
/// One shard of the index, held in memory: the memory-mode index is exactly as durable as
/// memory-mode job storage (both live in the silos). It is never collected as idle, and writing an
/// entry costs nothing but the dictionary update (persisting the whole shard on every write made each
/// submit slower as the shard grew).
/// </summary>
public sealed class JobIndexShardGrain(IOptions<JobExecutionOptions> options, TimeProvider time) : Grain, IJobIndexShardGrain
{
    private readonly Dictionary<string, Dictionary<string, JobIndexEntry>> _tenants = [];

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        DelayDeactivation(TimeSpan.MaxValue);
        return Task.CompletedTask;
    }

    /// <summary>
    /// A tenant's entries clients see: one past its retention is gone even before its grain removes it,
    /// and one removed while its webhook is pending is kept for the sweep only.
    /// </summary>
    private IEnumerable<JobIndexEntry> Kept(string tenant)
    {
        var now = time.GetUtcNow();
        return _tenants.TryGetValue(tenant, out var entries)
            ? entries.Values.Where(e => !e.Removed && !options.Value.IsExpired(e.Job, now))
            : [];
    }

    public Task UpsertAsync(JobIndexEntry entry)
    {
        if (!_tenants.TryGetValue(entry.Tenant, out var entries))
        {
            _tenants[entry.Tenant] = entries = [];
        }

        if (!entries.TryGetValue(entry.Job.JobId, out var known) || known.Version <= entry.Version)
        {
            entries[entry.Job.JobId] = entry;
        }

        return Task.CompletedTask;
    }

    public Task RemoveAsync(string tenant, string jobId)
    {
        if (_tenants.TryGetValue(tenant, out var entries) && entries.Remove(jobId) && entries.Count == 0)
        {
            _tenants.Remove(tenant);
        }

        return Task.CompletedTask;
    }

    public Task<List<JobIndexEntry>> DueAsync(DateTimeOffset now) =>
        Task.FromResult(_tenants.Values.SelectMany(entries => entries.Values)
            .Where(e => e.Removed || options.Value.IsDue(e.Job, now))
            .ToList());

    public Task<JobListPage> QueryAsync(JobListQuery query)
    {
        var matches = Kept(query.Tenant)
            .Where(e => query.Status is not { } status || e.Job.Status == status)
            .Where(e => string.IsNullOrEmpty(query.SessionId) || e.Job.SessionId == query.SessionId)
            .Select(e => e.Job)
            .ToList();
        var top = matches.OrderBy(j => j, NewestFirst.Instance).Take(query.Page * query.PageSize).ToList();
        return Task.FromResult(new JobListPage(top, matches.Count));
    }

    public Task<int> LiveCountAsync(string tenant) =>
        Task.FromResult(_tenants.TryGetValue(tenant, out var entries) ? entries.Values.Count(e => !e.Job.Status.IsTerminal()) : 0);

    public Task<JobStoreStats> StatsAsync(string tenant)
    {
        var kept = Kept(tenant).ToList();
        return Task.FromResult(new JobStoreStats(
            kept.Count,
            kept.Count(e => e.HasIdempotencyKey),
            kept.GroupBy(e => e.Job.Status).ToDictionary(g => g.Key, g => g.Count())));
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
