using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Serialization;
using Orleans.Storage;
using Praison.Orleans.Grains.Execution;
using Praison.Orleans.Grains.Jobs;
using Praison.Orleans.Grains.Postgres;

namespace Praison.Orleans.Tests.Postgres;

/// <summary>
/// The PostgreSQL store against a real server: writes conditional on the revision (two writers racing
/// one job's row), a connection killed mid-write, and group commit (what waits goes in one commit).
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Storage")]
public sealed class PostgresGrainStorageTests(PostgresFixture fixture) : IAsyncLifetime
{
    private static readonly Serializer Serializer =
        new ServiceCollection().AddSerializer(b => b.AddAssembly(typeof(JobRecord).Assembly)).BuildServiceProvider().GetRequiredService<Serializer>();

    private const string Service = "storage-tests";

    private NpgsqlDataSource _database = null!;
    private PostgresCommits _commits = null!;
    private PostgresReads _reads = null!;
    private PostgresGrainStorage _storage = null!;

    public async Task InitializeAsync()
    {
        _database = NpgsqlDataSource.Create(await fixture.Server.CreateDatabaseAsync());
        await PostgresSchema.ApplyAsync(_database, Service, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        _commits = new PostgresCommits(_database, Options.Create(new PostgresOptions { CommitConnections = 1 }));
        _reads = new PostgresReads(_database, Options.Create(new PostgresOptions { ReadConnections = 1 }));
        _storage = new PostgresGrainStorage(_reads, _commits, Serializer, Options.Create(new JobsOptions()));
    }

    public async Task DisposeAsync()
    {
        await _commits.DisposeAsync();
        await _reads.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task TwoWritersRacingOneJobsRow_FromTheSameRevision_ExactlyOneCommits()
    {
        var job = NewJob();
        await _storage.WriteStateAsync("job", job, new GrainState<JobRecord>(Record("submitted", 1)));
        var writers = Enumerable.Range(0, 8).Select(_ => Read(job)).ToList();
        await Task.WhenAll(writers);

        var outcomes = await Task.WhenAll(writers.Select(async (read, i) =>
        {
            var state = await read;
            state.State = Record($"writer {i}", 2);
            try
            {
                await _storage.WriteStateAsync("job", job, state);
                return $"writer {i}";
            }
            catch (InconsistentStateException)
            {
                return null;
            }
        }));

        var winner = Assert.Single(outcomes, o => o is not null);
        var stored = await Read(job);
        Assert.Equal((winner, "2"), (stored.State!.Reason, stored.ETag));
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM praison_jobs"));
    }

    [Fact]
    public async Task ACreateWhereARowExists_AndAClearOfAnOlderRevision_AreRefusedAndChangeNothing()
    {
        var job = NewJob();
        var first = new GrainState<JobRecord>(Record("first", 1));
        await _storage.WriteStateAsync("job", job, first);
        var stale = await Read(job);
        first.State = Record("second", 2);
        await _storage.WriteStateAsync("job", job, first);

        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("job", job, new GrainState<JobRecord>(Record("again", 1))));
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.ClearStateAsync("job", job, stale));

        Assert.Equal("second", (await Read(job)).State!.Reason);
    }

    [Fact]
    public async Task AConnectionKilledMidWrite_FailsTheWrite_LeavesTheRowAsItWas_AndTheNextWriteFromItCommits()
    {
        var job = NewJob();
        var state = new GrainState<JobRecord>(Record("submitted", 1));
        await _storage.WriteStateAsync("job", job, state);
        await using var holder = await _database.OpenConnectionAsync();
        await using var held = await holder.BeginTransactionAsync();
        await ExecuteAsync(holder, "SELECT 1 FROM praison_jobs FOR UPDATE");

        state.State = Record("running", 2);
        var blocked = _storage.WriteStateAsync("job", job, state);
        var writer = await Eventually.Until(() => BlockedBackendAsync(holder), pid => pid is not null || blocked.IsCompleted, "the write to wait for the row lock");
        Assert.False(blocked.IsCompleted, blocked.Exception?.ToString());
        await ExecuteAsync(holder, $"SELECT pg_terminate_backend({writer})");

        await Assert.ThrowsAsync<JobStorageException>(() => blocked);
        await held.RollbackAsync();
        Assert.Equal(("submitted", "1"), ((await Read(job)).State!.Reason, state.ETag));
        await _storage.WriteStateAsync("job", job, state); // the same write again, from the same revision

        Assert.Equal("running", (await Read(job)).State!.Reason);
    }

    [Fact]
    public async Task WritesWaitingWhileACommitIsInFlight_GoTogetherInTheNextCommit()
    {
        var first = NewJob();
        await _storage.WriteStateAsync("job", first, new GrainState<JobRecord>(Record("submitted", 1)));
        var commitsBefore = _commits.Batches;
        await using var holder = await _database.OpenConnectionAsync();
        await using var held = await holder.BeginTransactionAsync();
        await ExecuteAsync(holder, "SELECT 1 FROM praison_jobs FOR UPDATE");
        var firstState = await Read(first);
        firstState.State = Record("running", 2);
        var inFlight = _storage.WriteStateAsync("job", first, firstState); // the one committer waits on the lock
        await Eventually.Until(() => BlockedBackendAsync(holder), pid => pid is not null, "the first commit to be in flight");

        const int Waiting = 100;
        var waiting = Enumerable.Range(0, Waiting)
            .Select(i => _storage.WriteStateAsync("job", NewJob(), new GrainState<JobRecord>(Record($"job {i}", 1))))
            .ToList();
        await held.CommitAsync();
        await Task.WhenAll([inFlight, .. waiting]);

        Assert.Equal(2, _commits.Batches - commitsBefore); // the blocked one, then all that waited
        Assert.Equal(Waiting + 1, await CountAsync("SELECT count(*) FROM praison_jobs"));
    }

    [Fact]
    public async Task ReadsWaitingWhileAReadIsInFlight_GoTogetherInTheNextRoundTrip_EachAnsweredWithItsOwnRow()
    {
        // Jobs at revisions 1 and 2, other grains' state, and keys with no row, read by one reader while
        // the tables are locked (the first read waits on the lock; the rest queue behind it).
        var jobs = Enumerable.Range(0, 60).Select(_ => NewJob()).ToList();
        foreach (var (job, i) in jobs.Select((job, i) => (job, i)))
        {
            var state = new GrainState<JobRecord>(Record($"job {i}", 1));
            await _storage.WriteStateAsync("job", job, state);
            if (i % 2 == 0)
            {
                state.State = Record($"job {i} again", 2);
                await _storage.WriteStateAsync("job", job, state);
            }
        }

        var others = Enumerable.Range(0, 20).Select(i => GrainId.Create("schedule", $"alpha/schedule-{i}")).ToList();
        foreach (var (other, i) in others.Select((other, i) => (other, i)))
        {
            await _storage.WriteStateAsync("schedule", other, new GrainState<string>($"state {i}"));
        }

        var readsBefore = _reads.Batches;
        await using var holder = await _database.OpenConnectionAsync();
        await using var held = await holder.BeginTransactionAsync();
        await ExecuteAsync(holder, "LOCK TABLE praison_jobs, praison_grain_states IN ACCESS EXCLUSIVE MODE");
        var first = Read(jobs[0]);
        await Eventually.Until(() => BlockedBackendAsync(holder), pid => pid is not null, "the first read to wait for the lock");
        var jobReads = jobs.Select(Read).ToList();
        var otherReads = others.Select(other => ReadOther(other)).ToList();
        // Each read is queued before its method first awaits, so all are waiting before the lock goes.
        var missing = Enumerable.Range(0, 10).Select(async _ => (await Read(NewJob())).RecordExists)
            .Append(ExistsAsync(ReadOther(GrainId.Create("schedule", "alpha/none")))).ToList();
        await held.CommitAsync();

        Assert.Equal("job 0 again", (await first).State!.Reason);
        foreach (var (read, i) in jobReads.Select((read, i) => (read, i)))
        {
            var state = await read;
            Assert.Equal((i % 2 == 0 ? $"job {i} again" : $"job {i}", i % 2 == 0 ? "2" : "1", true), (state.State!.Reason, state.ETag, state.RecordExists));
        }

        foreach (var (read, i) in otherReads.Select((read, i) => (read, i)))
        {
            var state = await read;
            Assert.Equal(($"state {i}", "1"), (state.State, state.ETag));
        }

        Assert.All(await Task.WhenAll(missing), Assert.False);
        Assert.Equal(2, _reads.Batches - readsBefore); // the blocked one, then all that waited
    }

    [Fact]
    public async Task KeptCounts_AgreeWithTheRows_ThroughEveryChangeOnManyConnections_AndAfterAFold()
    {
        // Jobs of two tenants through submit, start, end, hide (removed while a webhook is pending) and
        // removal, written by several committers at once; then a closed connection's counts are folded.
        await using var more = new PostgresCommits(_database, Options.Create(new PostgresOptions { CommitConnections = 4 }));
        var storage = new PostgresGrainStorage(_reads, more, Serializer, Options.Create(new JobsOptions()));
        var index = new PostgresJobIndex(_database, Serializer, Options.Create(new JobsOptions()), Options.Create(new PostgresOptions()), TimeProvider.System);
        await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            var tenant = i % 3 == 0 ? "beta" : "alpha";
            var job = GrainId.Create("job", JobKeys.For(tenant, JobIds.New()));
            var state = new GrainState<JobRecord>(Record("submitted", 1));
            state.State!.Spec = Specs.Recipe("echo") with { IdempotencyKey = i % 4 == 0 ? $"key-{i}" : null };
            await storage.WriteStateAsync("job", job, state);
            foreach (var (status, removed) in Changes(i))
            {
                var next = state.State.Copy();
                (next.Status, next.Removed) = (status, removed);
                next.CompletedAt = status is JobStatus.Succeeded or JobStatus.Failed ? DateTimeOffset.UtcNow : null;
                state.State = next;
                await storage.WriteStateAsync("job", job, state);
            }

            if (i % 10 == 0)
            {
                await storage.ClearStateAsync("job", job, state);
            }
        }));

        foreach (var tenant in new[] { "alpha", "beta" })
        {
            Assert.Equal(await CountedFromRowsAsync(tenant), Flatten(await index.StatsAsync(tenant)));
            Assert.Equal(await CountAsync($"SELECT count(*) FROM praison_jobs WHERE tenant = '{tenant}' AND NOT removed AND status IN (0, 1)"), await index.LiveCountAsync(tenant));
            Assert.Equal((int)await CountAsync($"SELECT count(*) FROM praison_jobs WHERE tenant = '{tenant}' AND NOT removed"),
                (await index.QueryAsync(new JobListQuery(tenant, null, null, 1, 5))).Total);
            Assert.Equal((int)await CountAsync($"SELECT count(*) FROM praison_jobs WHERE tenant = '{tenant}' AND NOT removed AND status = 2"),
                (await index.QueryAsync(new JobListQuery(tenant, JobStatus.Succeeded, null, 1, 5))).Total);
        }

        var before = Flatten(await index.StatsAsync("alpha"));
        await ExecuteOnOwnAsync("INSERT INTO praison_job_counts VALUES ('alpha', 2, 2147483646, 5, 1), ('alpha', 2, 2147483645, -5, -1)"); // two closed connections' rows
        await index.DueAsync(DateTimeOffset.UtcNow); // the sweep folds them
        Assert.Equal(before, Flatten(await index.StatsAsync("alpha")));
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM praison_job_counts WHERE shard >= 2147483645"));
    }

    /// <summary>What job <paramref name="i"/> goes through after its submit: a mix of ends, hides and none.</summary>
    private static (JobStatus Status, bool Removed)[] Changes(int i) => (i % 5) switch
    {
        0 => [],
        1 => [(JobStatus.Running, false)],
        2 => [(JobStatus.Running, false), (JobStatus.Succeeded, false)],
        3 => [(JobStatus.Running, false), (JobStatus.Failed, false), (JobStatus.Failed, true)],
        _ => [(JobStatus.Cancelled, false)],
    };

    private static (int Total, int Keys, string ByStatus) Flatten(JobStoreStats stats) =>
        (stats.TotalJobs, stats.IdempotencyKeys, string.Join(",", stats.StatusCounts.OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value}")));

    private async Task<(int Total, int Keys, string ByStatus)> CountedFromRowsAsync(string tenant)
    {
        var counts = Enum.GetValues<JobStatus>().ToDictionary(status => status, _ => 0);
        var keys = 0;
        await using var command = _database.CreateCommand(
            $"SELECT status, count(*)::int, (count(*) FILTER (WHERE has_key))::int FROM praison_jobs WHERE tenant = '{tenant}' AND NOT removed GROUP BY status");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            counts[(JobStatus)reader.GetInt16(0)] = reader.GetInt32(1);
            keys += reader.GetInt32(2);
        }

        return Flatten(new JobStoreStats(counts.Values.Sum(), keys, counts));
    }

    private async Task ExecuteOnOwnAsync(string sql)
    {
        await using var command = _database.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private static GrainId NewJob() => GrainId.Create("job", JobKeys.For(JobKeys.DefaultTenant, JobIds.New()));

    private static JobRecord Record(string reason, long revision) =>
        new() { Spec = Specs.Recipe("echo"), Reason = reason, Revision = revision, CreatedAt = DateTimeOffset.UtcNow };

    private static async Task<bool> ExistsAsync(Task<GrainState<string>> read) => (await read).RecordExists;

    private async Task<GrainState<string>> ReadOther(GrainId grain)
    {
        var state = new GrainState<string>("");
        await _storage.ReadStateAsync("schedule", grain, state);
        return state;
    }

    private async Task<GrainState<JobRecord>> Read(GrainId job)
    {
        var state = new GrainState<JobRecord>(new JobRecord());
        await _storage.ReadStateAsync("job", job, state);
        return state;
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var command = _database.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// The backend waiting for a lock <paramref name="holder"/>'s session holds, if any; asked on a
    /// connection of its own, as the holder's transaction would see the activity of its first read only.
    /// </summary>
    private async Task<int?> BlockedBackendAsync(NpgsqlConnection holder)
    {
        await using var command = _database.CreateCommand("SELECT pid FROM pg_stat_activity WHERE pg_blocking_pids(pid) @> ARRAY[$1] LIMIT 1");
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = holder.ProcessID });
        return await command.ExecuteScalarAsync() as int?;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
