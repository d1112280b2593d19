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
/// nothing: a row without a job cannot exist), and lists, totals, stats, the live-jobs quota and the
/// sweep are SQL over the table's partial indexes: no tallies, and the sweep reads only due rows.
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

        await using var connection = await database.OpenConnectionAsync();
        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(Statement($"SELECT count(*)::int FROM praison_jobs WHERE {filter}", values));
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

    public async Task<JobStoreStats> StatsAsync(string tenant)
    {
        await using var command = database.CreateCommand("""
            SELECT status, count(*)::int, (count(*) FILTER (WHERE has_key))::int FROM praison_jobs
            WHERE tenant = $1 AND NOT removed AND (completed_ticks IS NULL OR completed_ticks > $2)
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
            $"SELECT count(*)::int FROM praison_jobs WHERE tenant = $1 AND NOT removed AND status IN ({(short)JobStatus.Queued}, {(short)JobStatus.Running})");
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
