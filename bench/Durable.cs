using System.Diagnostics;
using System.Text.Json;
using Hangfire.PostgreSql;
using Npgsql;
using Praison.Orleans.Testing;

namespace Praison.Orleans.Bench;

/// <summary>
/// The durable submit path on one real PostgreSQL server (fsync on), side by side in one run: the
/// server's one-write ceiling (a bare endpoint doing one committed INSERT per request), ours in
/// PostgreSQL mode (embedded gateway, group commit), and Hangfire with Hangfire.PostgreSql, each on a
/// database of its own, the same load generator and body (Hangfire at 1, 4 and the load's concurrency:
/// its storage does worse the more at once). Then ours end to end: a drain of echo jobs from submit to
/// succeeded. Commits and WAL flushes per job come from the server's own counts
/// (<c>pg_stat_database.xact_commit</c> of that database, <c>pg_stat_wal.wal_sync</c>), before and after,
/// over the jobs the load created (rows counted); read-only transactions are commits too.
/// </summary>
public sealed class Durable(BenchOptions options, Dictionary<string, double> figures)
{
    private static readonly object EchoBody = new { prompt = "bench", recipe_name = "echo" };

    public async Task<List<Measurement>> RunAsync()
    {
        await using var server = await PostgresServer.StartAsync();
        var results = new List<Measurement>();

        var ceilingDatabase = await server.CreateDatabaseAsync();
        var ceiling = await StartOneInsertAsync(ceilingDatabase);
        var bare = await SubmitLoadAsync(ceiling, "one INSERT per request", ceilingDatabase, "SELECT count(*) FROM jobs", null, options.Concurrency);
        results.Add(bare);
        await ceiling.StopAsync();

        var oursDatabase = await server.CreateDatabaseAsync();
        var ours = await Targets.StartPraisonAsync(settings: ["--Cluster:Storage=Postgres", $"--ConnectionStrings:Postgres={oursDatabase}"]);
        var praison = await SubmitLoadAsync(ours, "praison (embedded, PostgreSQL)", oursDatabase,
            "SELECT count(*) FROM praison_jobs", "SELECT count(*) FROM praison_jobs WHERE status = 2", options.Concurrency);
        results.Add(praison);
        results.Add(await DrainAsync(ours, oursDatabase));
        results.AddRange(await RetainedAsync(ours, oursDatabase));
        await ours.StopAsync();

        var best = (Measurement?)null;
        foreach (var concurrency in new[] { 1, 4, options.Concurrency })
        {
            var hangfireDatabase = await server.CreateDatabaseAsync();
            var hangfire = await StartHangfireAsync(hangfireDatabase);
            var theirs = await SubmitLoadAsync(hangfire, $"Hangfire.PostgreSql, {concurrency} at once", hangfireDatabase, "SELECT count(*) FROM hangfire.job", null, concurrency);
            results.Add(theirs);
            await hangfire.StopAsync();
            best = best is null || theirs.PerSecond > best.PerSecond ? theirs : best;
        }

        var (wrkBare, wrkOurs) = await OutOfProcessAsync(server, results);
        figures["durable: submit rate praison / Hangfire.PostgreSql at its best concurrency"] = praison.PerSecond / best!.PerSecond;
        figures["durable: submit rate praison / one INSERT per request"] = praison.PerSecond / bare.PerSecond;
        figures["durable (wrk, out of process): submit rate praison / one INSERT per request"] = wrkOurs.PerSecond / wrkBare.PerSecond;
        return results;
    }

    /// <summary>
    /// The submit rate again with wrk in its own process against the ceiling and ours, each a process of
    /// its own (the ceiling: this harness in its <c>serve insert</c> role; ours: the gateway's build
    /// output, embedded, in PostgreSQL mode), on fresh databases of the same server. Besides the rate:
    /// the server process's CPU per request and the database server's (its processes, read from /proc).
    /// </summary>
    private async Task<(Measurement Ceiling, Measurement Ours)> OutOfProcessAsync(PostgresServer server, List<Measurement> results)
    {
        var script = await OutOfProcess.SubmitScriptAsync();
        try
        {
            async Task<Measurement> MeasureAsync(string name, Task<(ServerProcess, string)> starting)
            {
                var (process, url) = await starting;
                await using (process)
                {
                    var row = $"submit (wrk, out of process): {name}";
                    var (measured, databaseCpu) = await OutOfProcess.WarmThenMeasureAsync(process, url, script, options, row, server.CpuTime);
                    figures[$"{row}: PostgreSQL CPU ms per request"] = databaseCpu;
                    results.Add(measured);
                    return measured;
                }
            }

            var ceiling = await MeasureAsync("one INSERT per request", OutOfProcess.StartServeAsync("insert", await server.CreateDatabaseAsync()));
            var ours = await MeasureAsync("praison (gateway process, PostgreSQL)", OutOfProcess.StartPraisonAsync(
                "--Cluster:Storage=Postgres", $"--ConnectionStrings:Postgres={await server.CreateDatabaseAsync()}"));
            return (ceiling, ours);
        }
        finally
        {
            File.Delete(script);
        }
    }

    /// <summary>
    /// The submit load at <paramref name="concurrency"/>; then, once every job created
    /// (<paramref name="createdSql"/>) has ended (<paramref name="endedSql"/>, when the target runs them),
    /// the transactions the server committed and the WAL flushes it made per job over the whole load.
    /// </summary>
    private async Task<Measurement> SubmitLoadAsync(Target target, string name, string database, string createdSql, string? endedSql, int concurrency)
    {
        using var http = new HttpClient { BaseAddress = new Uri(target.Url), Timeout = TimeSpan.FromSeconds(30) };
        await using var data = NpgsqlDataSource.Create(database);
        var before = await ServerCountsAsync(database);
        var createdBefore = await ScalarAsync(data, createdSql);
        var measured = await LoadGenerator.RunAsync($"submit: {name}", concurrency, options.WarmUp, options.Duration,
            async ct => (await http.PostAsJsonAsync("/api/v1/runs", EchoBody, ct)).StatusCode == System.Net.HttpStatusCode.Accepted);
        var created = await ScalarAsync(data, createdSql) - createdBefore;
        if (endedSql is not null)
        {
            await UntilAsync(data, endedSql, created);
        }

        var after = await ServerCountsAsync(database);
        figures[$"{name}: commits per job (whole load{(endedSql is null ? "" : ", submit to end")})"] = (after.Commits - before.Commits) / Math.Max(1.0, created);
        figures[$"{name}: WAL flushes per job"] = (after.WalSyncs - before.WalSyncs) / Math.Max(1.0, created);
        return measured;
    }

    /// <summary>
    /// Ours end to end: <see cref="BenchOptions.Jobs"/> (at most 20,000) echo jobs submitted by the load
    /// generator's concurrency, then waited for until every one has succeeded (counted in the database);
    /// the rate is jobs over the whole time.
    /// </summary>
    private async Task<Measurement> DrainAsync(Target target, string database)
    {
        var jobs = Math.Min(options.Jobs, 20_000);
        using var http = new HttpClient { BaseAddress = new Uri(target.Url), Timeout = TimeSpan.FromSeconds(30) };
        await using var data = NpgsqlDataSource.Create(database);
        var succeededBefore = await ScalarAsync(data, "SELECT count(*) FROM praison_jobs WHERE status = 2");
        var clock = Stopwatch.StartNew();
        var next = 0;
        var refused = 0;
        await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= jobs)
            {
                using var response = await http.PostAsJsonAsync("/api/v1/runs", EchoBody);
                if (response.StatusCode != System.Net.HttpStatusCode.Accepted)
                {
                    Interlocked.Increment(ref refused);
                }
            }
        }));
        var accepted = jobs - refused;
        await UntilAsync(data, "SELECT count(*) FROM praison_jobs WHERE status = 2", succeededBefore + accepted);
        return new Measurement($"drain {accepted} echo jobs: praison (PostgreSQL)", accepted, refused, accepted / clock.Elapsed.TotalSeconds, double.NaN, double.NaN);
    }

    /// <summary>
    /// Lists and stats over 1,000,000 retained finished jobs of one tenant: the rows are copied in SQL
    /// from a finished job (ids and creation times of their own), then page 1, a deep page and
    /// <c>/stats</c> are read through the API by one client.
    /// </summary>
    private async Task<List<Measurement>> RetainedAsync(Target target, string database)
    {
        const int Retained = 1_000_000;
        await using (var data = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(database) { CommandTimeout = 600 }.ConnectionString))
        {
            // Copied with the counting trigger off (a million one-row upserts would take minutes) and
            // counted in one row: what the trigger would have added.
            await using var copy = data.CreateCommand($"""
                ALTER TABLE praison_jobs DISABLE TRIGGER praison_jobs_counted;
                INSERT INTO praison_jobs
                SELECT tenant, 'run_r' || lpad(to_hex(g), 11, '0'), revision, version, status, created_ticks - g::bigint * 10000, completed_ticks,
                       due_ticks, session_id, schedule_id, has_key, removed, snapshot, record
                FROM (SELECT * FROM praison_jobs WHERE status = 2 LIMIT 1) job, generate_series(1, {Retained}) g;
                ALTER TABLE praison_jobs ENABLE TRIGGER praison_jobs_counted;
                INSERT INTO praison_job_counts SELECT tenant, status, 0, {Retained}, 0 FROM praison_jobs WHERE status = 2 LIMIT 1
                ON CONFLICT (tenant, status, shard) DO UPDATE SET jobs = praison_job_counts.jobs + excluded.jobs;
                ANALYZE praison_jobs;
                """);
            await copy.ExecuteNonQueryAsync();
        }

        using var http = new HttpClient { BaseAddress = new Uri(target.Url), Timeout = TimeSpan.FromSeconds(30) };
        var window = TimeSpan.FromSeconds(Math.Min(5, options.Duration.TotalSeconds));
        var warmUp = TimeSpan.FromSeconds(1);
        return
        [
            await LoadGenerator.RunAsync($"list page 1 of 20, {Retained / 1000}k retained", 1, warmUp, window,
                async ct => (await http.GetAsync("/api/v1/runs?page=1&page_size=20", ct)).IsSuccessStatusCode),
            await LoadGenerator.RunAsync($"list page 400 of 20, {Retained / 1000}k retained", 1, warmUp, window,
                async ct => (await http.GetAsync("/api/v1/runs?page=400&page_size=20", ct)).IsSuccessStatusCode),
            await LoadGenerator.RunAsync($"/stats, {Retained / 1000}k retained", 1, warmUp, window,
                async ct => (await http.GetAsync("/stats", ct)).IsSuccessStatusCode),
        ];
    }

    private static async Task UntilAsync(NpgsqlDataSource data, string countSql, long wanted)
    {
        var clock = Stopwatch.StartNew();
        while (await ScalarAsync(data, countSql) < wanted)
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(5))
            {
                throw new TimeoutException($"'{countSql}' did not reach {wanted} within 5 minutes.");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Transactions the server committed in <paramref name="database"/> so far, and the WAL flushes it
    /// made (the whole server: the targets run one at a time). Backends report their counts at most once
    /// a second (PostgreSQL 15), so the counts are read after that.
    /// </summary>
    private static async Task<(long Commits, long WalSyncs)> ServerCountsAsync(string database)
    {
        await using var data = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(database) { Database = "postgres" }.ConnectionString);
        await Task.Delay(1100);
        await using var command = data.CreateCommand(
            "SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = $1), (SELECT wal_sync FROM pg_stat_wal)");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = new NpgsqlConnectionStringBuilder(database).Database! });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private static async Task<long> ScalarAsync(NpgsqlDataSource data, string sql)
    {
        await using var command = data.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// The server's one-write ceiling: a bare endpoint that parses the body and commits one INSERT per
    /// request, on connections set up as ours are (<see cref="Grains.Postgres.PostgresDataSource"/>: no
    /// reset when back in the pool, statements prepared).
    /// </summary>
    public static async Task<Target> StartOneInsertAsync(string database)
    {
        var data = Grains.Postgres.PostgresDataSource.Create(database);
        await using (var create = data.CreateCommand("CREATE TABLE jobs (id text PRIMARY KEY, prompt text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"))
        {
            await create.ExecuteNonQueryAsync();
        }

        var app = Targets.Slim();
        app.MapPost("/api/v1/runs", async (HttpRequest request) =>
        {
            using var body = await JsonDocument.ParseAsync(request.Body);
            var id = Targets.NewId();
            await using var insert = data.CreateCommand("INSERT INTO jobs (id, prompt) VALUES ($1, $2)");
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = body.RootElement.GetProperty("prompt").GetString() ?? "" });
            await insert.ExecuteNonQueryAsync();
            return Targets.Accepted(request, id);
        });
        var target = await Targets.StartAsync("one INSERT per request", app);
        return target with { StopAsync = async () => { await target.StopAsync(); await data.DisposeAsync(); } };
    }

    /// <summary>Hangfire 1.8 on Hangfire.PostgreSql behind the same endpoint as its in-memory target.</summary>
    private static Task<Target> StartHangfireAsync(string database) => Targets.StartHangfireAsync(
        "Hangfire.PostgreSql", c => c.UsePostgreSqlStorage(o => o.UseNpgsqlConnection(database)));
}
