using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Praison.Orleans.Grains.Execution;
using Praison.Orleans.Grains.Jobs;

namespace Praison.Orleans.Grains.Index;

/// <summary>
/// The job index as Azure Table rows: one row per job, partition = tenant, row key = inverted creation
/// time and job id, so a partition reads newest first. Upserts are conditional (ETag) and never replace
/// a newer version. Jobs past their retention are hidden here before their grains remove them. The
/// sweep's query (<see cref="DueAsync"/>) filters on the status, webhook and completion columns across
/// all partitions: a scan the table service runs, once per sweep period.
/// </summary>
public sealed class AzureTableJobIndex(
    TableServiceClient tables, IOptions<JobsOptions> options, TimeProvider time) : IJobIndex
{
    public const string TableName = "PraisonJobIndex";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Lazy<Task<TableClient>> _table = new(async () =>
    {
        var table = tables.GetTableClient(TableName);
        await table.CreateIfNotExistsAsync();
        return table;
    });

    public async Task UpsertAsync(JobIndexEntry entry)
    {
        var table = await _table.Value;
        var row = ToRow(entry);
        if (entry.Job.Status == JobStatus.Queued && entry.Job.Attempt <= 1 && await TryAddAsync(table, row))
        {
            return; // a new job's first entry: no read needed
        }

        for (var attempt = 0; attempt < 5; attempt++)
        {
            var existing = await table.GetEntityIfExistsAsync<TableEntity>(row.PartitionKey, row.RowKey);
            try
            {
                if (!existing.HasValue)
                {
                    await table.AddEntityAsync(row);
                }
                else if (existing.Value!.GetInt64(nameof(JobIndexEntry.Version)) <= entry.Version)
                {
                    await table.UpdateEntityAsync(row, existing.Value.ETag, TableUpdateMode.Replace);
                }

                return;
            }
            catch (RequestFailedException conflict) when (conflict.Status is 409 or 412)
            {
                // Another write got in between: read again and decide again.
            }
        }

        throw new InvalidOperationException($"The index entry of {entry.Job.JobId} kept changing under five writes.");
    }

    /// <summary>Removes the entry; one already gone is fine (removal is repeated by the sweep).</summary>
    public async Task RemoveAsync(string tenant, string jobId, DateTimeOffset createdAt) =>
        await (await _table.Value).DeleteEntityAsync(tenant, RowKey(createdAt, jobId));

    public async Task<IReadOnlyList<JobIndexEntry>> DueAsync(DateTimeOffset now)
    {
        var expiredBefore = now - options.Value.Retention;
        var filter = TableClient.CreateQueryFilter(
            $"Status eq {JobStatus.Queued.ToWireName()} or Status eq {JobStatus.Running.ToWireName()} or WebhookPending eq {true} or Removed eq {true} or CompletedAt le {expiredBefore}");
        var due = new List<JobIndexEntry>();
        await foreach (var row in (await _table.Value).QueryAsync<TableEntity>(filter))
        {
            var entry = new JobIndexEntry(
                row.PartitionKey, FromRow(row), row.GetInt64(nameof(JobIndexEntry.Version)) ?? 0,
                row.GetBoolean(nameof(JobIndexEntry.HasIdempotencyKey)) == true, IsRemoved(row));
            if (entry.Removed || options.Value.IsDue(entry.Job, now)) // the table filter cannot see a delayed job's time
            {
                due.Add(entry);
            }
        }

        return due;
    }

    private static async Task<bool> TryAddAsync(TableClient table, TableEntity row)
    {
        try
        {
            await table.AddEntityAsync(row);
            return true;
        }
        catch (RequestFailedException conflict) when (conflict.Status == 409)
        {
            return false; // written before (a repeated submit): decide on the stored version
        }
    }

    public async Task<JobListPage> QueryAsync(JobListQuery query)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {query.Tenant}");
        if (query.Status is { } status)
        {
            filter += " and " + TableClient.CreateQueryFilter($"Status eq {status.ToWireName()}");
        }

        if (!string.IsNullOrEmpty(query.SessionId))
        {
            filter += " and " + TableClient.CreateQueryFilter($"SessionId eq {query.SessionId}");
        }

        var jobs = new List<JobSnapshot>();
        var total = 0;
        var skip = (query.Page - 1) * query.PageSize;
        await foreach (var row in (await _table.Value).QueryAsync<TableEntity>(filter))
        {
            var job = FromRow(row);
            if (IsExpired(job) || IsRemoved(row))
            {
                continue;
            }

            if (total >= skip && jobs.Count < query.PageSize)
            {
                jobs.Add(job);
            }

            total++;
        }

        return new JobListPage(jobs, total);
    }

    /// <summary>Counts the tenant's queued and running rows, filtered by the table service, reading keys only.</summary>
    public async Task<int> LiveCountAsync(string tenant)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {tenant} and (Status eq {JobStatus.Queued.ToWireName()} or Status eq {JobStatus.Running.ToWireName()})");
        var count = 0;
        await foreach (var _ in (await _table.Value).QueryAsync<TableEntity>(filter, select: ["RowKey"]))
        {
            count++;
        }

        return count;
    }

    public async Task<JobStoreStats> StatsAsync(string tenant)
    {
        var counts = Enum.GetValues<JobStatus>().ToDictionary(s => s, _ => 0);
        var (total, keys) = (0, 0);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {tenant}");
        await foreach (var row in (await _table.Value).QueryAsync<TableEntity>(filter))
        {
            var job = FromRow(row);
            if (IsExpired(job) || IsRemoved(row))
            {
                continue;
            }

            total++;
            counts[job.Status]++;
            keys += row.GetBoolean(nameof(JobIndexEntry.HasIdempotencyKey)) == true ? 1 : 0;
        }

        return new JobStoreStats(total, keys, counts);
    }

    /// <summary>Newest first: the row key starts with the ticks left until the end of time.</summary>
    public static string RowKey(DateTimeOffset createdAt, string jobId) =>
        (DateTimeOffset.MaxValue.UtcTicks - createdAt.UtcTicks).ToString("D19", CultureInfo.InvariantCulture) + "_" + jobId;

    private bool IsExpired(JobSnapshot job) => options.Value.IsExpired(job, time.GetUtcNow());

    private static bool IsRemoved(TableEntity row) => row.GetBoolean(nameof(JobIndexEntry.Removed)) == true;

    /// <summary>
    /// The longest error and agent id a row keeps. A table row's string property holds at most 32K
    /// UTF-16 characters, and the snapshot is one, JSON-escaped (up to 6 characters per character):
    /// an entry that did not fit would never be written, leaving the job listed as it was. A list shows
    /// the cut text; the job's own status shows it whole.
    /// </summary>
    public const int MaxRowText = 4000;

    private static TableEntity ToRow(JobIndexEntry entry) => ToRow(entry, entry.Job with
    {
        Error = Cut(entry.Job.Error),
        AgentId = Cut(entry.Job.AgentId),
        SessionId = Cut(entry.Job.SessionId),
    });

    private static string? Cut(string? text) => text is { Length: > MaxRowText } ? text[..MaxRowText] : text;

    private static TableEntity ToRow(JobIndexEntry entry, JobSnapshot job) => new(entry.Tenant, RowKey(job.CreatedAt, job.JobId))
    {
        ["Status"] = job.Status.ToWireName(),
        ["SessionId"] = job.SessionId,
        ["CompletedAt"] = job.CompletedAt,
        ["WebhookPending"] = job.Webhook is { Pending: true },
        [nameof(JobIndexEntry.Version)] = entry.Version,
        [nameof(JobIndexEntry.HasIdempotencyKey)] = entry.HasIdempotencyKey,
        [nameof(JobIndexEntry.Removed)] = entry.Removed,
        ["Snapshot"] = JsonSerializer.Serialize(job, Json),
    };

    private static JobSnapshot FromRow(TableEntity row) =>
        JsonSerializer.Deserialize<JobSnapshot>(row.GetString("Snapshot"), Json)!;
}
