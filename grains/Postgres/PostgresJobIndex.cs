using System.Text;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Serialization;
using Praison.Orleans.Grains.Execution;
using Praison.Orleans.Grains.Index;

namespace Praison.Orleans.Grains.Postgres;

/// <summary>
/// The job index of PostgreSQL mode: queries over the job rows themselves (<c>praison_jobs</c>), whose
/// index columns <see cref="PostgresGrainStorage"/> writes in the record's own statement. So there is
/// no entry to write or remove here (<see cref="UpsertAsync"/> and <see cref="RemoveAsync"/> do
/// nothing: a row without a job cannot exist), and lists, the sweep's due range and the expired are SQL
/// over the table's partial indexes; totals, stats and the live-jobs quota read the counts a trigger
/// keeps in each change's own transaction (<see cref="PostgresSchema"/>), not the retained rows.
/// A job past its retention is neither listed nor counted, as in the other stores, until the sweep removes it.
/// </summary>
public sealed class PostgresJobIndex(
    NpgsqlDataSource database, Serializer serializer, IOptions<JobsOptions> options, IOptions<PostgresOptions> postgres,
    TimeProvider time) : IJobIndex
{
    private static readonly Task<JobIndexWrite?> Nothing = Task.FromResult<JobIndexWrite?>(null);

    /// <summary>Nothing to write: the row's columns were written with its record.</summary>
    public Task<JobIndexWrite?> UpsertAsync(JobIndexEntry entry, JobIndexWrite? previous = null) => Nothing;

    /// <summary>Nothing to remove: the row went with its record.</summary>
    public Task RemoveAsync(string tenant, string jobId, DateTimeOffset createdAt, JobIndexWrite? previous = null) => Task.CompletedTask;

    public async Task<JobListPage> QueryAsync(JobListQuery query)
    {
        var filter = new StringBuilder("tenant = $1 AND NOT removed AND (completed_ticks IS NULL OR completed_ticks > $2)");
        var values = new List<object> { query.Tenant, ExpiredUpTo() };
        if (query.Status is { } status)
        {
            values.Add((short)status);
            filter.Append(" AND status = $").Append(values.Count);
        }

        var counted = query.IsCounted;
        if (!string.IsNullOrEmpty(query.SessionId))
        {
            values.Add(query.SessionId);
            filter.Append(" AND session_id = $").Append(values.Count);
        }

        if (!string.IsNullOrEmpty(query.ScheduleId))
        {
            values.Add(query.ScheduleId);
            filter.Append(" AND schedule_id = $").Append(values.Count);
        }

        if (query.Priority is { } priority)
        {
            values.Add((short)priority);
            filter.Append(" AND priority = $").Append(values.Count);
        }

        if (!string.IsNullOrEmpty(query.BatchId))
        {
            values.Add(query.BatchId);
            filter.Append(" AND batch_id = $").Append(values.Count);
        }

        await using var connection = await database.OpenConnectionAsync();
        await using var batch = new NpgsqlBatch(connection);
        // Unfiltered or by status, the total is the kept counts less the expired not yet removed (a short
        // index range); by session, schedule or priority, it counts those rows.
        batch.BatchCommands.Add(counted
            ? Statement($"""
                SELECT ((SELECT coalesce(sum(jobs), 0) FROM praison_job_counts WHERE tenant = $1{(query.Status is null ? "" : " AND status = $3")})
                      - (SELECT count(*) FROM praison_jobs WHERE tenant = $1 AND NOT removed AND completed_ticks <= $2{(query.Status is null ? "" : " AND status = $3")}))::int
                """, values)
            : Statement($"SELECT count(*)::int FROM praison_jobs WHERE {filter}", values));
        var skip = (long)(query.Page - 1) * query.PageSize;
        batch.BatchCommands.Add(Statement(
            $"SELECT snapshot FROM praison_jobs WHERE {filter} ORDER BY created_ticks DESC, job_id LIMIT {query.PageSize} OFFSET {skip}", values));
        await using var reader = await batch.ExecuteReaderAsync();
        await reader.ReadAsync();
        var total = reader.GetInt32(0);
        await reader.NextResultAsync();
        var page = new List<JobSnapshot>(query.PageSize);
        while (await reader.ReadAsync())
        {
            page.Add(serializer.Deserialize<JobSnapshot>(reader.GetFieldValue<byte[]>(0))!);
        }

        return new JobListPage(page, total);
    }

    /// <summary>The kept counts of the tenant by status, less its expired jobs not yet removed (a short index range).</summary>
    public async Task<JobStoreStats> StatsAsync(string tenant)
    {
        await using var command = database.CreateCommand("""
            SELECT status, sum(jobs)::int, sum(keys)::int FROM (
                SELECT status, jobs, keys FROM praison_job_counts WHERE tenant = $1
                UNION ALL
                SELECT status, -count(*), -count(*) FILTER (WHERE has_key) FROM praison_jobs
                WHERE tenant = $1 AND NOT removed AND completed_ticks <= $2 GROUP BY status) counted
            GROUP BY status
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = tenant });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = ExpiredUpTo() });
        var counts = Enum.GetValues<JobStatus>().ToDictionary(status => status, _ => 0);
        var keys = 0;
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            counts[(JobStatus)reader.GetInt16(0)] = reader.GetInt32(1);
            keys += reader.GetInt32(2);
        }

        return new JobStoreStats(counts.Values.Sum(), keys, counts);
    }

    public async Task<int> LiveCountAsync(string tenant)
    {
        await using var command = database.CreateCommand(
            $"SELECT coalesce(sum(jobs), 0)::int FROM praison_job_counts WHERE tenant = $1 AND status IN ({(short)JobStatus.Queued}, {(short)JobStatus.Running})");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = tenant });
        return (int)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// The rows whose due time has come (an index range: finished jobs waiting out their retention are
    /// not read), soonest first and at most <see cref="PostgresOptions.MaxDuePerSweep"/>: live jobs
    /// first (due at once), then the expired in bounded batches, one per sweep. The due rule is applied
    /// again to what it returns (a row's time was fixed by the options of the silo that wrote it).
    /// </summary>
    public async Task<IReadOnlyList<JobIndexEntry>> DueAsync(DateTimeOffset now)
    {
        await FoldCountsAsync();
        await using var command = database.CreateCommand(
            "SELECT tenant, version, has_key, removed, snapshot FROM praison_jobs WHERE due_ticks <= $1 ORDER BY due_ticks LIMIT $2");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = now.UtcTicks });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = postgres.Value.MaxDuePerSweep });
        var due = new List<JobIndexEntry>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var entry = new JobIndexEntry(
                reader.GetString(0), serializer.Deserialize<JobSnapshot>(reader.GetFieldValue<byte[]>(4))!,
                reader.GetInt64(1), reader.GetBoolean(2), reader.GetBoolean(3));
            if (options.Value.IsDue(entry, now))
            {
                due.Add(entry);
            }
        }

        return due;
    }

    /// <summary>
    /// Folds the count rows of connections that have closed into shard 0 (which no connection counts
    /// into), so the rows stay as many as the open connections; run by the sweep. Their sums are the
    /// same before and after, and a live connection's rows are never touched (no committer waits).
    /// </summary>
    private async Task FoldCountsAsync()
    {
        await using var command = database.CreateCommand("""
            WITH closed AS (
                DELETE FROM praison_job_counts
                WHERE shard <> 0 AND shard NOT IN (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL)
                RETURNING tenant, status, jobs, keys)
            INSERT INTO praison_job_counts AS c (tenant, status, shard, jobs, keys)
            SELECT tenant, status, 0, sum(jobs), sum(keys) FROM closed GROUP BY tenant, status
            ON CONFLICT (tenant, status, shard) DO UPDATE SET jobs = c.jobs + excluded.jobs, keys = c.keys + excluded.keys
            """);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A job that ended at or before this many ticks is past its retention now.</summary>
    private long ExpiredUpTo()
    {
        var now = time.GetUtcNow();
        return options.Value.Retention < now - DateTimeOffset.MinValue ? (now - options.Value.Retention).UtcTicks : 0;
    }

    private static NpgsqlBatchCommand Statement(string sql, List<object> values)
    {
        var statement = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            statement.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return statement;
    }
}
