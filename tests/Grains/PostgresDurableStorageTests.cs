using Npgsql;

namespace Praison.Orleans.Tests.Grains;

/// <summary>The durable-storage tests on PostgreSQL, and what a job costs there in rows.</summary>
[Collection(PostgresClusterCollection.Name)]
[Trait("Category", "Storage")]
public sealed class PostgresDurableStorageTests(PostgresClusterFixture fixture) : DurableStorageTests(fixture)
{
    [Fact]
    public async Task FinishedJob_IsOneRowInsertedAndUpdatedOncePerTransition_AndNoOtherState()
    {
        // Submit, start and success: one statement each on the job's own row (its record and index
        // columns together), nothing beside it. No checkpoint within these jobs' run and no sweep.
        var serviceId = NewServiceId();
        await using var cluster = await fixture.StartClusterAsync(
            serviceId, silos: 1, checkpointInterval: TimeSpan.FromHours(1), sweepPeriod: TimeSpan.FromHours(1));
        await using var database = NpgsqlDataSource.Create(await fixture.DatabaseOfAsync(serviceId));
        const int Jobs = 20;

        var jobs = Enumerable.Range(0, Jobs).Select(_ => cluster.Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, JobIds.New()))).ToList();
        await Task.WhenAll(jobs.Select(job => job.SubmitAsync(Specs.Recipe("echo"))));
        await Eventually.Until(() => CountAsync(database, "SELECT count(*) FROM praison_jobs WHERE status = 2"), n => n == Jobs, "every job's row to say succeeded");
        var rows = await Eventually.Until(
            // Each committer's connection reports its counters on its own schedule: wait for all of them.
            () => RowChangesAsync(database), changes => changes.Inserted >= Jobs && changes.Updated >= 2 * Jobs,
            "the server's row counters to include every insert and update");

        Assert.Equal((Jobs, 2L * Jobs, 0L), (rows.Inserted, rows.Updated, rows.OtherTables));
        foreach (var job in jobs)
        {
            Assert.Equal(JobStatus.Succeeded, (await job.GetStatusAsync())!.Status);
        }
    }

    private static async Task<long> CountAsync(NpgsqlDataSource database, string sql)
    {
        await using var command = database.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Rows written to the job table, and to the grain-state table, as the server counts them.</summary>
    private static async Task<(long Inserted, long Updated, long OtherTables)> RowChangesAsync(NpgsqlDataSource database)
    {
        await using var command = database.CreateCommand("""
            SELECT coalesce(sum(n_tup_ins) FILTER (WHERE relname = 'praison_jobs'), 0)::bigint,
                   coalesce(sum(n_tup_upd) FILTER (WHERE relname = 'praison_jobs'), 0)::bigint,
                   coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del) FILTER (WHERE relname = 'praison_grain_states'), 0)::bigint
            FROM pg_stat_user_tables
            """);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }
}
