using System.Collections.Concurrent;
using Azure;
using Azure.Data.Tables;

namespace Praison.Orleans.Grains.Index;

/// <summary>
/// The job counts of the Azure index (docs/scaling.md), kept as tally rows beside the job rows they
/// count: per partition, each index writer (one per silo process) has <see cref="Lanes"/> rows
/// <c>tally_{writer}_{lane}</c> counting the partition's job rows by status, and those with an
/// idempotency key. A write that changes what a job row counts as changes one of its writer's tallies
/// in the same transaction, so the counts are exactly as committed as the rows. Only its writer changes
/// a tally row, one write at a time per lane, so its ETag is known without a read and never contended.
/// A tenant's totals are the sum of its tally rows: a short key range in each of its partitions.
/// </summary>
internal sealed class AzureTableTallies(TimeProvider wallClock)
{
    /// <summary>After job rows (digits) and due rows (<c>due_</c>) in key order.</summary>
    public const string RowPrefix = "tally_";

    /// <summary>Tally rows per writer and partition: how many of one silo's writes to a partition may be in flight at once.</summary>
    public const int Lanes = 4;

    private const string KeysColumn = "Keys";
    private const int MaxFolded = 50; // a transaction holds at most 100 actions

    private static readonly string[] Columns = [.. Enum.GetNames<JobStatus>(), KeysColumn];

    private readonly string _writer = Guid.NewGuid().ToString("N")[..16];
    private readonly ConcurrentDictionary<string, Lane[]> _lanes = new(StringComparer.Ordinal);
    private int _nextLane;

    /// <summary>
    /// Another writer's tally row untouched this long is folded into this writer's when it first
    /// writes the partition: a silo gone for good leaves its counts, not its rows. A live writer whose
    /// row was folded finds it gone at its next write and starts a new one. Server timestamps are wall
    /// clock time, so this is compared with <see cref="TimeProvider.System"/> in production.
    /// </summary>
    public TimeSpan FoldAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Submits one partition's <paramref name="actions"/> and, when the job row they write counts as
    /// something else than before, the change of one of this writer's tallies from
    /// <paramref name="before"/> to <paramref name="after"/>, in the same transaction. A tally row not
    /// as this writer last wrote it (a commit reported as failed, or folded by another writer) is read
    /// again and the transaction repeated; any other failure is the caller's.
    /// </summary>
    public async Task<IReadOnlyList<Response>> SubmitAsync(
        TableClient table, string partition, IReadOnlyList<TableTransactionAction> actions, JobTally before, JobTally after)
    {
        if (before == after)
        {
            return (await table.SubmitTransactionAsync(actions)).Value;
        }

        var lane = LaneOf(partition);
        await lane.Lock.WaitAsync();
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                if (!lane.Loaded)
                {
                    await LoadAsync(table, partition, lane);
                }

                var counts = (long[])lane.Counts.Clone();
                Count(counts, before, -1);
                Count(counts, after, +1);
                var row = Row(partition, lane.RowKey, counts);
                var tally = lane.ETag is { } etag
                    ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, row, new ETag(etag))
                    : new TableTransactionAction(TableTransactionActionType.Add, row);
                try
                {
                    var responses = (await table.SubmitTransactionAsync([.. actions, tally])).Value;
                    (lane.Counts, lane.ETag) = (counts, responses[^1].Headers.ETag?.ToString());
                    return responses;
                }
                catch (TableTransactionFailedException failed) when (failed.FailedTransactionActionIndex == actions.Count && attempt < 3)
                {
                    lane.Loaded = false;
                }
            }
        }
        finally
        {
            lane.Lock.Release();
        }
    }

    /// <summary>The sums of the tally rows in <paramref name="partitions"/>: per status, and the rows with an idempotency key.</summary>
    public static async Task<(Dictionary<JobStatus, long> ByStatus, long Keys)> SumAsync(TableClient table, IEnumerable<string> partitions)
    {
        var sums = await Task.WhenAll(partitions.Select(async partition =>
        {
            var counts = new long[Columns.Length];
            await foreach (var row in table.QueryAsync<TableEntity>(RangeOf(partition), select: Columns))
            {
                Add(counts, CountsOf(row));
            }

            return counts;
        }));
        var total = new long[Columns.Length];
        foreach (var counts in sums)
        {
            Add(total, counts);
        }

        return (Enum.GetValues<JobStatus>().ToDictionary(status => status, status => total[(int)status]), total[^1]);
    }

    /// <summary>A partition's tally rows, by key range.</summary>
    public static string RangeOf(string partition) =>
        TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {RowPrefix} and RowKey lt {"tally`"}");

    /// <summary>
    /// Reads this lane's row, folding into it other writers' rows untouched for <see cref="FoldAfter"/>
    /// (when that fails, another writer changed or folded one of them: they stay for another time).
    /// </summary>
    private async Task LoadAsync(TableClient table, string partition, Lane lane)
    {
        var stale = wallClock.GetUtcNow() - FoldAfter;
        TableEntity? own = null;
        var folded = new List<TableEntity>();
        await foreach (var tally in table.QueryAsync<TableEntity>(RangeOf(partition)))
        {
            if (tally.RowKey == lane.RowKey)
            {
                own = tally;
            }
            else if (!tally.RowKey.StartsWith(RowPrefix + _writer, StringComparison.Ordinal) && tally.Timestamp < stale && folded.Count < MaxFolded)
            {
                folded.Add(tally);
            }
        }

        (lane.Counts, lane.ETag, lane.Loaded) = (own is null ? new long[Columns.Length] : CountsOf(own), own?.ETag.ToString(), true);
        if (folded.Count == 0)
        {
            return;
        }

        var counts = (long[])lane.Counts.Clone();
        folded.ForEach(other => Add(counts, CountsOf(other)));
        var row = Row(partition, lane.RowKey, counts);
        List<TableTransactionAction> actions =
        [
            lane.ETag is { } etag ? new(TableTransactionActionType.UpdateReplace, row, new ETag(etag)) : new(TableTransactionActionType.Add, row),
            .. folded.Select(other => new TableTransactionAction(TableTransactionActionType.Delete, other, other.ETag)),
        ];
        try
        {
            var responses = (await table.SubmitTransactionAsync(actions)).Value;
            (lane.Counts, lane.ETag) = (counts, responses[0].Headers.ETag?.ToString());
        }
        catch (RequestFailedException)
        {
            lane.Loaded = false; // read again at the next write
        }
    }

    private Lane LaneOf(string partition)
    {
        var lanes = _lanes.GetOrAdd(partition, _ => [.. Enumerable.Range(0, Lanes).Select(i => new Lane($"{RowPrefix}{_writer}_{i}"))]);
        return lanes[(int)((uint)Interlocked.Increment(ref _nextLane) % Lanes)];
    }

    private static void Count(long[] counts, JobTally tally, int change)
    {
        if (tally.Status is { } status)
        {
            counts[(int)status] += change;
            counts[^1] += tally.Key ? change : 0;
        }
    }

    private static void Add(long[] total, long[] counts)
    {
        for (var i = 0; i < total.Length; i++)
        {
            total[i] += counts[i];
        }
    }

    private static long[] CountsOf(TableEntity row) => [.. Columns.Select(column => row.GetInt64(column) ?? 0)];

    private static TableEntity Row(string partition, string rowKey, long[] counts)
    {
        var row = new TableEntity(partition, rowKey);
        for (var i = 0; i < Columns.Length; i++)
        {
            row[Columns[i]] = counts[i];
        }

        return row;
    }

    /// <summary>One tally row of this writer: its counts and ETag as last written, changed one write at a time.</summary>
    private sealed class Lane(string rowKey)
    {
        public string RowKey { get; } = rowKey;

        public SemaphoreSlim Lock { get; } = new(1, 1);

        public long[] Counts { get; set; } = [];

        public string? ETag { get; set; }

        public bool Loaded { get; set; }
    }
}

/// <summary>What one job row adds to its partition's tallies: one to its status, and one to the keys when it holds an idempotency key; nothing when removed.</summary>
public readonly record struct JobTally(JobStatus? Status, bool Key)
{
    public static JobTally Of(JobIndexEntry entry) => entry.Removed ? default : new(entry.Job.Status, entry.HasIdempotencyKey);
}
