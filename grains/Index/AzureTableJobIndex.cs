using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Praison.Orleans.Grains.Execution;

namespace Praison.Orleans.Grains.Index;

/// <summary>
/// The job index as Azure Table rows (docs/scaling.md). A tenant's jobs are spread over
/// <see cref="Partitions"/> partitions by a hash of the job id, so one tenant's writes are not capped by one
/// partition's throughput. In its partition each job has two rows, always changed together in one
/// transaction (one request):
/// <list type="bullet">
/// <item>its <b>job row</b>, keyed by inverted creation time and job id (a partition reads newest first),
/// holding the snapshot lists show and the columns they filter on;</item>
/// <item>its <b>due row</b>, keyed by the time the sweep must next visit it (<see cref="JobSweepRules.DueAt"/>): at once
/// while it is live or removed; a pending webhook's next round; its retention's end once it has finished. The
/// sweep reads a key range of due rows (<see cref="DueAsync"/>), never the finished jobs that are not due.</item>
/// </list>
/// The job row names its due row; every write is conditional on the job row's ETag, which the writer
/// keeps (<see cref="JobIndexWrite"/>), so a job's writes need no read and a stale or concurrent writer
/// reads, compares versions and never replaces a newer entry.
/// </summary>
public sealed class AzureTableJobIndex(
    TableServiceClient tables, IOptions<JobsOptions> options, TimeProvider time) : IJobIndex
{
    public const string TableName = "PraisonJobIndex";

    /// <summary>How many partitions a tenant's jobs are spread over. Fixed for a table: rows are found by it.</summary>
    public const int Partitions = 16;

    private const string DueRowPrefix = "due_"; // job row keys start with a digit, so they sort before it
    private const string DueRowKeyColumn = "DueRowKey";
    private const string TenantColumn = "Tenant";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    /// <summary>This index's tallies: the counts behind totals, stats and the live-jobs quota.</summary>
    internal AzureTableTallies Tallies { get; } = new(TimeProvider.System);

    private readonly Lazy<Task<TableClient>> _table = new(async () =>
    {
        var table = tables.GetTableClient(TableName);
        await table.CreateIfNotExistsAsync();
        return table;
    });

    /// <summary>
    /// The snapshot limit of a second try, when the table refused a row for its size all the same: the
    /// row then says the job's status with shorter texts, rather than keeping what it said before.
    /// </summary>
    private const int RefusedRowSnapshotChars = 2000;

    public async Task<JobIndexWrite?> UpsertAsync(JobIndexEntry entry, JobIndexWrite? previous = null)
    {
        try
        {
            return await UpsertAsync(entry, previous, MaxSnapshotChars);
        }
        catch (RequestFailedException refused) when (refused.Status == 400)
        {
            return await UpsertAsync(entry, previous, RefusedRowSnapshotChars); // a transaction changes nothing when refused
        }
    }

    private async Task<JobIndexWrite?> UpsertAsync(JobIndexEntry entry, JobIndexWrite? previous, int snapshotLimit)
    {
        var table = await _table.Value;
        var (row, due) = Rows(entry, snapshotLimit);
        var counted = JobTally.Of(entry);
        if (previous is null && entry.Job.Status == JobStatus.Queued && entry.Job.Attempt <= 1)
        {
            try
            {
                return await SubmitAsync(table, entry.Version, due.RowKey, [new(TableTransactionActionType.Add, row), Put(due)], default, counted);
            }
            catch (RequestFailedException conflict) when (conflict.Status == 409)
            {
                // Written before (a repeated submit): decide on the stored version.
            }
        }

        for (var attempt = 0; attempt < 5; attempt++)
        {
            var known = previous ?? await ReadAsync(table, row.PartitionKey, row.RowKey);
            try
            {
                if (known is null)
                {
                    return await SubmitAsync(table, entry.Version, due.RowKey, [new(TableTransactionActionType.Add, row), Put(due)], default, counted);
                }

                if (known.Version > entry.Version)
                {
                    return known; // a newer entry is there: a late write changes nothing
                }

                var actions = new List<TableTransactionAction> { new(TableTransactionActionType.UpdateReplace, row, new ETag(known.ETag)) };
                if (known.DueRowKey is { } before && before != due.RowKey)
                {
                    actions.Add(new(TableTransactionActionType.Delete, new TableEntity(row.PartitionKey, before), ETag.All));
                }

                actions.Add(Put(due));
                return await SubmitAsync(table, entry.Version, due.RowKey, actions, known.Counted, counted);
            }
            catch (RequestFailedException conflict) when (conflict.Status is 404 or 409 or 412)
            {
                previous = null; // another write got in between: read again and decide again
            }
        }

        throw new InvalidOperationException($"The index entry of {entry.Job.JobId} kept changing under five writes.");
    }

    /// <summary>Removes the job's rows; rows already gone are fine (removal is repeated by the sweep).</summary>
    public async Task RemoveAsync(string tenant, string jobId, DateTimeOffset createdAt, JobIndexWrite? previous = null)
    {
        var table = await _table.Value;
        var (partition, rowKey) = (PartitionKey(tenant, jobId), RowKey(createdAt, jobId));
        for (var attempt = 0; attempt < 5; attempt++)
        {
            if ((previous ?? await ReadAsync(table, partition, rowKey)) is not { } known)
            {
                return;
            }

            var actions = new List<TableTransactionAction> { new(TableTransactionActionType.Delete, new TableEntity(partition, rowKey), new ETag(known.ETag)) };
            if (known.DueRowKey is { } due)
            {
                actions.Add(new(TableTransactionActionType.Delete, new TableEntity(partition, due), ETag.All));
            }

            try
            {
                await Tallies.SubmitAsync(table, partition, actions, known.Counted, default);
                return;
            }
            catch (RequestFailedException conflict) when (conflict.Status is 404 or 412)
            {
                previous = null; // changed or gone meanwhile: read again
            }
        }

        throw new InvalidOperationException($"The index entry of {jobId} kept changing under five removals.");
    }

    /// <summary>
    /// The due rows whose time has come, across all partitions: a key-range query, so the table service
    /// reads what is due and not the finished jobs waiting out their retention. The due rule is applied
    /// again to what it returns (a row's time was fixed by the options of the silo that wrote it).
    /// </summary>
    public async Task<IReadOnlyList<JobIndexEntry>> DueAsync(DateTimeOffset now)
    {
        var filter = TableClient.CreateQueryFilter($"RowKey ge {DueRowPrefix} and RowKey lt {DueRowKey(now.AddTicks(1), "")}");
        var due = new List<JobIndexEntry>();
        await foreach (var row in (await _table.Value).QueryAsync<TableEntity>(filter))
        {
            var entry = EntryOf(row);
            if (options.Value.IsDue(entry, now))
            {
                due.Add(entry);
            }
        }

        return due;
    }

    /// <summary>
    /// One query per partition of the tenant, in parallel, reading the listing columns only: each keeps
    /// its newest <c>page × page_size</c> matching keys (a partition reads newest first); the merged keys
    /// give the page, whose snapshots are then read by key range. The total comes from the tallies
    /// when the query filters by status or not at all, and the partitions then read no further than
    /// the page; filtered by session or schedule, each partition counts its matches.
    /// </summary>
    public async Task<JobListPage> QueryAsync(JobListQuery query)
    {
        var filter = JobRows;
        if (query.Status is { } status)
        {
            filter += " and " + TableClient.CreateQueryFilter($"Status eq {status.ToWireName()}");
        }

        if (!string.IsNullOrEmpty(query.SessionId))
        {
            filter += " and " + TableClient.CreateQueryFilter($"SessionId eq {query.SessionId}");
        }

        if (!string.IsNullOrEmpty(query.ScheduleId))
        {
            filter += " and " + TableClient.CreateQueryFilter($"ScheduleId eq {query.ScheduleId}");
        }

        if (query.Priority is { } priority)
        {
            filter += " and " + TableClient.CreateQueryFilter($"Priority eq {priority}");
        }

        if (!string.IsNullOrEmpty(query.BatchId))
        {
            filter += " and " + TableClient.CreateQueryFilter($"BatchId eq {query.BatchId}");
        }

        var table = await _table.Value;
        var tallied = query.IsCounted;
        var total = tallied ? CountOf(await AzureTableTallies.SumAsync(table, PartitionsOf(query.Tenant)), query.Status) : 0;
        var wanted = (int)Math.Min((long)query.Page * query.PageSize, int.MaxValue);
        var partitions = await Task.WhenAll(PartitionsOf(query.Tenant).Select(async partition =>
        {
            var (count, newest) = (0, new List<string>());
            await foreach (var row in table.QueryAsync<TableEntity>(InPartition(partition, filter), tallied ? Math.Min(wanted, 1000) : null, ListingColumns))
            {
                if (IsListed(row))
                {
                    count++;
                    if (newest.Count < wanted)
                    {
                        newest.Add(row.RowKey);
                    }

                    if (tallied && newest.Count == wanted)
                    {
                        break; // counted by the tallies: no need to read on
                    }
                }
            }

            return (Partition: partition, Count: count, Newest: newest);
        }));

        var page = partitions.SelectMany(p => p.Newest.Select(key => (p.Partition, Key: key)))
            .OrderBy(row => row.Key, StringComparer.Ordinal)
            .Skip((query.Page - 1) * query.PageSize)
            .Take(query.PageSize)
            .ToList();
        var snapshots = await Task.WhenAll(page.GroupBy(row => row.Partition).Select(async rows =>
        {
            var keys = rows.Select(row => row.Key).ToHashSet(StringComparer.Ordinal);
            var range = TableClient.CreateQueryFilter($"PartitionKey eq {rows.Key} and RowKey ge {keys.Min(StringComparer.Ordinal)} and RowKey le {keys.Max(StringComparer.Ordinal)}");
            var jobs = new List<JobSnapshot>();
            await foreach (var row in table.QueryAsync<TableEntity>(range, select: ["RowKey", "Snapshot"]))
            {
                if (keys.Contains(row.RowKey))
                {
                    jobs.Add(SnapshotOf(row));
                }
            }

            return jobs;
        }));

        var jobs = snapshots.SelectMany(j => j).OrderBy(job => job, NewestFirst.Instance).ToList();
        return new JobListPage(jobs, tallied ? total : partitions.Sum(p => p.Count));
    }

    /// <summary>The tenant's queued and running jobs, from its tallies.</summary>
    public async Task<int> LiveCountAsync(string tenant)
    {
        var (byStatus, _) = await AzureTableTallies.SumAsync(await _table.Value, PartitionsOf(tenant));
        return (int)(byStatus[JobStatus.Queued] + byStatus[JobStatus.Running]);
    }

    /// <summary>The tenant's jobs by status and those with an idempotency key, from its tallies.</summary>
    public async Task<JobStoreStats> StatsAsync(string tenant)
    {
        var (byStatus, keys) = await AzureTableTallies.SumAsync(await _table.Value, PartitionsOf(tenant));
        return new JobStoreStats(
            (int)byStatus.Values.Sum(), (int)keys, byStatus.ToDictionary(pair => pair.Key, pair => (int)pair.Value));
    }

    private static int CountOf((Dictionary<JobStatus, long> ByStatus, long Keys) tallies, JobStatus? status) =>
        (int)(status is { } one ? tallies.ByStatus[one] : tallies.ByStatus.Values.Sum());

    /// <summary>The partition of a job's rows: its tenant and one of <see cref="Partitions"/> shards by a stable hash of its id.</summary>
    public static string PartitionKey(string tenant, string jobId) => // stable across processes, unlike string.GetHashCode
        Partition(tenant, (int)(System.IO.Hashing.XxHash32.HashToUInt32(System.Runtime.InteropServices.MemoryMarshal.AsBytes(jobId.AsSpan())) % Partitions));

    /// <summary>Newest first: the row key starts with the ticks left until the end of time.</summary>
    public static string RowKey(DateTimeOffset createdAt, string jobId) =>
        (DateTimeOffset.MaxValue.UtcTicks - createdAt.UtcTicks).ToString("D19", CultureInfo.InvariantCulture) + "_" + jobId;

    /// <summary>Soonest first: the due row key starts with the ticks of the time the job is due.</summary>
    private static string DueRowKey(DateTimeOffset dueAt, string jobId) =>
        DueRowPrefix + dueAt.UtcTicks.ToString("D19", CultureInfo.InvariantCulture) + "_" + jobId;

    private static string Partition(string tenant, int shard) => $"{tenant}|{shard:x}";

    private static IEnumerable<string> PartitionsOf(string tenant) => Enumerable.Range(0, Partitions).Select(shard => Partition(tenant, shard));

    private static readonly string JobRows = TableClient.CreateQueryFilter($"RowKey lt {DueRowPrefix}");

    private static string InPartition(string partition, string filter) =>
        TableClient.CreateQueryFilter($"PartitionKey eq {partition}") + " and " + filter;

    private static readonly string[] ListingColumns = ["RowKey", "Status", "CompletedAt", nameof(JobIndexEntry.Removed)];

    /// <summary>Listed and counted: not removed, not past its retention (hidden here before its grain removes it).</summary>
    private bool IsListed(TableEntity row) =>
        row.GetBoolean(nameof(JobIndexEntry.Removed)) != true
        && !(StatusOf(row).IsTerminal() && options.Value.IsExpired(row.GetDateTimeOffset("CompletedAt"), time.GetUtcNow()));

    private static JobStatus StatusOf(TableEntity row) =>
        JobStatusExtensions.TryParseWireName(row.GetString("Status"), out var status) ? status : JobStatus.Queued;

    private static async Task<JobIndexWrite?> ReadAsync(TableClient table, string partition, string rowKey)
    {
        var row = await table.GetEntityIfExistsAsync<TableEntity>(
            partition, rowKey, [nameof(JobIndexEntry.Version), DueRowKeyColumn, "Status", nameof(JobIndexEntry.Removed), nameof(JobIndexEntry.HasIdempotencyKey)]);
        if (!row.HasValue)
        {
            return null;
        }

        var known = row.Value!;
        var counted = known.GetBoolean(nameof(JobIndexEntry.Removed)) == true
            ? default
            : new JobTally(StatusOf(known), known.GetBoolean(nameof(JobIndexEntry.HasIdempotencyKey)) == true);
        return new JobIndexWrite(known.ETag.ToString(), known.GetString(DueRowKeyColumn), known.GetInt64(nameof(JobIndexEntry.Version)) ?? 0, counted);
    }

    /// <summary>
    /// Runs the transaction whose first action writes the job row, with the tally change from what the
    /// row counted as (<paramref name="before"/>) to what it counts as now; what it wrote, for the next write.
    /// </summary>
    private async Task<JobIndexWrite> SubmitAsync(
        TableClient table, long version, string dueRowKey, List<TableTransactionAction> actions, JobTally before, JobTally after)
    {
        var responses = await Tallies.SubmitAsync(table, actions[0].Entity.PartitionKey, actions, before, after);
        return new JobIndexWrite((responses[0].Headers.ETag ?? ETag.All).ToString(), dueRowKey, version, after);
    }

    private static TableTransactionAction Put(TableEntity due) => new(TableTransactionActionType.UpsertReplace, due);

    /// <summary>
    /// The longest snapshot a row keeps, as JSON text. A table row's string property holds at most 32 Ki
    /// UTF-16 characters: an entry that did not fit would never be written, and the row would go on
    /// saying what it said before (a failed job counted and listed as queued, undeletable). So the
    /// serialized snapshot is what is bounded — escaping can make one character six — by cutting its
    /// longest texts (error, agent id, step) until it fits. A list shows the cut text; the job's own
    /// status shows it whole.
    /// </summary>
    public const int MaxSnapshotChars = 30_000;

    /// <summary>
    /// <paramref name="job"/> as a row's snapshot: its JSON, with the longest of its free texts halved
    /// until the whole is at most <paramref name="limit"/> characters.
    /// </summary>
    public static string SnapshotJson(JobSnapshot job, int limit = MaxSnapshotChars)
    {
        var json = JsonSerializer.Serialize(job, Json);
        while (json.Length > limit)
        {
            var (error, agent, step) = (job.Error?.Length ?? 0, job.AgentId?.Length ?? 0, job.Progress.CurrentStep?.Length ?? 0);
            if (Math.Max(error, Math.Max(agent, step)) == 0)
            {
                break; // nothing free to cut: the rest is bounded at submit
            }

            job = error >= agent && error >= step ? job with { Error = Half(job.Error!) }
                : agent >= step ? job with { AgentId = Half(job.AgentId!) }
                : job with { Progress = job.Progress with { CurrentStep = Half(job.Progress.CurrentStep!) } };
            json = JsonSerializer.Serialize(job, Json);
        }

        return json;
    }

    private static string Half(string text)
    {
        var keep = text.Length / 2;
        return text[..(keep > 0 && char.IsHighSurrogate(text[keep - 1]) ? keep - 1 : keep)];
    }

    /// <summary>
    /// The job row and the due row of <paramref name="entry"/>: the same columns, the job row naming its
    /// due row. <paramref name="snapshotLimit"/> bounds the snapshot (<see cref="SnapshotJson"/>).
    /// </summary>
    private (TableEntity Row, TableEntity Due) Rows(JobIndexEntry entry, int snapshotLimit = MaxSnapshotChars)
    {
        var job = entry.Job;
        var partition = PartitionKey(entry.Tenant, job.JobId);
        var dueRowKey = DueRowKey(options.Value.DueAt(entry), job.JobId);
        var snapshot = SnapshotJson(job, snapshotLimit);
        TableEntity Row(string rowKey) => new(partition, rowKey)
        {
            [TenantColumn] = entry.Tenant,
            ["Status"] = job.Status.ToWireName(),
            ["SessionId"] = job.SessionId,
            ["ScheduleId"] = job.ScheduleId,
            ["BatchId"] = job.BatchId,
            ["Priority"] = job.Priority,
            ["CompletedAt"] = job.CompletedAt,
            ["WebhookPending"] = job.Webhook is { Pending: true },
            [nameof(JobIndexEntry.Version)] = entry.Version,
            [nameof(JobIndexEntry.HasIdempotencyKey)] = entry.HasIdempotencyKey,
            [nameof(JobIndexEntry.Removed)] = entry.Removed,
            ["Snapshot"] = snapshot,
        };

        var row = Row(RowKey(job.CreatedAt, job.JobId));
        row[DueRowKeyColumn] = dueRowKey;
        return (row, Row(dueRowKey));
    }

    private static JobIndexEntry EntryOf(TableEntity row) => new(
        row.GetString(TenantColumn), SnapshotOf(row), row.GetInt64(nameof(JobIndexEntry.Version)) ?? 0,
        row.GetBoolean(nameof(JobIndexEntry.HasIdempotencyKey)) == true, row.GetBoolean(nameof(JobIndexEntry.Removed)) == true);

    private static JobSnapshot SnapshotOf(TableEntity row) =>
        JsonSerializer.Deserialize<JobSnapshot>(row.GetString("Snapshot"), Json)!;
}
