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

/// <summary>The entries of one shard, persisted so a shard survives its own deactivation.</summary>
[GenerateSerializer, Alias("Praison.JobIndexShard")]
public sealed class JobIndexShard
{
    [Id(0)] public Dictionary<string, JobIndexEntry> Entries { get; set; } = [];
}

public sealed class JobIndexShardGrain(
    [PersistentState("index", Jobs.JobStorage.Name)] IPersistentState<JobIndexShard> shard,
    IOptions<JobExecutionOptions> options,
    TimeProvider time) : Grain, IJobIndexShardGrain
{
    private Dictionary<string, JobIndexEntry> Entries => shard.State.Entries;

    /// <summary>The entries of jobs still kept: one past its retention is gone even before its grain removes it.</summary>
    private IEnumerable<JobIndexEntry> Kept
    {
        get
        {
            var now = time.GetUtcNow();
            return Entries.Values.Where(e => !(e.Job.Status.IsTerminal() && options.Value.IsExpired(e.Job.CompletedAt, now)));
        }
    }

    public async Task UpsertAsync(JobIndexEntry entry)
    {
        if (Entries.TryGetValue(entry.Job.JobId, out var known) && known.Version > entry.Version)
        {
            return;
        }

        Entries[entry.Job.JobId] = entry;
        await shard.WriteStateAsync();
    }

    public async Task RemoveAsync(string jobId)
    {
        if (Entries.Remove(jobId))
        {
            await shard.WriteStateAsync();
        }
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
