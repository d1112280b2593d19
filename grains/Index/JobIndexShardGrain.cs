using Microsoft.Extensions.Options;
using Praison.Orleans.Grains.Execution;

namespace Praison.Orleans.Grains.Index;

/// <summary>One shard of a tenant's index entries (key <c>{tenant}/{shard}</c>).</summary>
[Alias("Praison.IJobIndexShardGrain")]
public interface IJobIndexShardGrain : IGrainWithStringKey
{
    [Alias("Upsert")]
    Task UpsertAsync(JobIndexEntry entry);

    [Alias("Remove")]
    Task RemoveAsync(string jobId);

    /// <summary>The shard's first <c>query.Page × query.PageSize</c> matches, newest first, and its match count.</summary>
    [Alias("Query")]
    Task<JobListPage> QueryAsync(JobListQuery query);

    [Alias("Stats")]
    Task<JobStoreStats> StatsAsync();
}

/// <summary>
/// One shard of a tenant's index, held in memory: the memory-mode index is exactly as durable as
/// memory-mode job storage (both live in the silos). It is never collected as idle, and writing an
/// entry costs nothing but the dictionary update (persisting the whole shard on every write made each
/// submit slower as the shard grew).
/// </summary>
public sealed class JobIndexShardGrain(IOptions<JobExecutionOptions> options, TimeProvider time) : Grain, IJobIndexShardGrain
{
    private readonly Dictionary<string, JobIndexEntry> _entries = [];

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        DelayDeactivation(TimeSpan.MaxValue);
        return Task.CompletedTask;
    }

    /// <summary>The entries of jobs still kept: one past its retention is gone even before its grain removes it.</summary>
    private IEnumerable<JobIndexEntry> Kept
    {
        get
        {
            var now = time.GetUtcNow();
            return _entries.Values.Where(e => !(e.Job.Status.IsTerminal() && options.Value.IsExpired(e.Job.CompletedAt, now)));
        }
    }

    public Task UpsertAsync(JobIndexEntry entry)
    {
        if (!_entries.TryGetValue(entry.Job.JobId, out var known) || known.Version <= entry.Version)
        {
            _entries[entry.Job.JobId] = entry;
        }

        return Task.CompletedTask;
    }

    public Task RemoveAsync(string jobId)
    {
        _entries.Remove(jobId);
        return Task.CompletedTask;
    }

    public Task<JobListPage> QueryAsync(JobListQuery query)
    {
        var matches = Kept
            .Where(e => query.Status is not { } status || e.Job.Status == status)
            .Where(e => string.IsNullOrEmpty(query.SessionId) || e.Job.SessionId == query.SessionId)
            .Select(e => e.Job)
            .ToList();
        var top = matches.OrderBy(j => j, NewestFirst.Instance).Take(query.Page * query.PageSize).ToList();
        return Task.FromResult(new JobListPage(top, matches.Count));
    }

    public Task<JobStoreStats> StatsAsync()
    {
        var kept = Kept.ToList();
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
