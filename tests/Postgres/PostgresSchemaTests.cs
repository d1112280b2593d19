using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Praison.Orleans.Grains.Postgres;

namespace Praison.Orleans.Tests.Postgres;

/// <summary>The schema a silo applies at start-up, against a real PostgreSQL server.</summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Storage")]
public sealed class PostgresSchemaTests(PostgresFixture fixture)
{
    private const string Service = "schema-tests";

    [Fact]
    public async Task AFreshDatabase_GetsTheWholeSchema_AndApplyingAgainChangesNothing()
    {
        await using var database = NpgsqlDataSource.Create(await fixture.Server.CreateDatabaseAsync());

        Assert.Equal(PostgresSchema.Version, await PostgresSchema.ApplyAsync(database, Service, NullLogger.Instance));
        var tables = await TablesAsync(database);
        Assert.Equal(PostgresSchema.Version, await PostgresSchema.ApplyAsync(database, Service, NullLogger.Instance));

        Assert.Equal(["orleansquery", "praison_grain_states", "praison_job_counts", "praison_jobs", "praison_membership_versions", "praison_reminders", "praison_schema", "praison_silos"], tables);
        Assert.Equal(tables, await TablesAsync(database));
        Assert.Equal(PostgresSchema.Version, await StoredVersionAsync(database));
    }

    [Fact]
    public async Task SilosStartingTogether_ApplyItOnce()
    {
        await using var database = NpgsqlDataSource.Create(await fixture.Server.CreateDatabaseAsync());

        var applied = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => PostgresSchema.ApplyAsync(database, Service, NullLogger.Instance))));

        Assert.All(applied, version => Assert.Equal(PostgresSchema.Version, version));
        Assert.Equal(PostgresSchema.Version, await StoredVersionAsync(database));
    }

    [Fact]
    public async Task AnApplier_WaitsForTheSchemaLock_WhileAnotherHoldsIt()
    {
        await using var database = NpgsqlDataSource.Create(await fixture.Server.CreateDatabaseAsync());
        await using var holder = await database.OpenConnectionAsync();
        await using var held = await holder.BeginTransactionAsync();
        await using (var take = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", holder))
        {
            take.Parameters.Add(new NpgsqlParameter { Value = SchemaLockKey });
            await take.ExecuteNonQueryAsync();
        }

        var applying = PostgresSchema.ApplyAsync(database, Service, NullLogger.Instance);
        await Eventually.Until(() => WaitersForTheLockAsync(database), waiting => waiting > 0 || applying.IsCompleted, "the applier to wait for the lock");
        Assert.False(applying.IsCompleted); // it waits: no step is applied beside another applier's
        await held.CommitAsync();

        Assert.Equal(PostgresSchema.Version, await applying);
    }

    // PostgresSchema's advisory lock key: "praison" in ASCII.
    private const long SchemaLockKey = 0x70_72_61_69_73_6f_6e;

    private static async Task<long> WaitersForTheLockAsync(NpgsqlDataSource database)
    {
        await using var command = database.CreateCommand(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND ((classid::bigint << 32) | objid::bigint) = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = SchemaLockKey });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task ANewerSchema_IsRefusedNamingBothVersions_AndLeftAsItIs()
    {
        await using var database = NpgsqlDataSource.Create(await fixture.Server.CreateDatabaseAsync());
        await PostgresSchema.ApplyAsync(database, Service, NullLogger.Instance);
        await using (var newer = database.CreateCommand($"UPDATE praison_schema SET version = {PostgresSchema.Version + 1}"))
        {
            await newer.ExecuteNonQueryAsync();
        }

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => PostgresSchema.ApplyAsync(database, Service, NullLogger.Instance));

        Assert.Contains($"version {PostgresSchema.Version + 1}", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"up to {PostgresSchema.Version}", refused.Message, StringComparison.Ordinal);
        Assert.Equal(PostgresSchema.Version + 1, await StoredVersionAsync(database));
    }

    private static async Task<List<string>> TablesAsync(NpgsqlDataSource database)
    {
        await using var command = database.CreateCommand(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name");
        await using var reader = await command.ExecuteReaderAsync();
        var tables = new List<string>();
        while (await reader.ReadAsync())
        {
            tables.Add(reader.GetString(0));
        }

        return tables;
    }

    private static async Task<int> StoredVersionAsync(NpgsqlDataSource database)
    {
        await using var command = database.CreateCommand("SELECT version FROM praison_schema WHERE id = 1");
        return (int)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task ADatabaseOfAnotherService_IsRefusedNamingBoth_AndLeftAsItIs()
    {
        await using var database = NpgsqlDataSource.Create(await fixture.Server.CreateDatabaseAsync());
        await PostgresSchema.ApplyAsync(database, "deployment-a", NullLogger.Instance);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => PostgresSchema.ApplyAsync(database, "deployment-b", NullLogger.Instance));

        Assert.Contains("'deployment-a'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("'deployment-b'", refused.Message, StringComparison.Ordinal);
        Assert.Equal(PostgresSchema.Version, await PostgresSchema.ApplyAsync(database, "deployment-a", NullLogger.Instance));
    }
}
