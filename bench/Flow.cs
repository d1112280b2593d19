using System.Diagnostics;
using System.Text.Json.Nodes;
using Praison.Orleans.Testing;

namespace Praison.Orleans.Bench;

/// <summary>
/// What concurrency keys cost, in memory and on PostgreSQL, each against itself in the same run: the
/// submit rate, and the drain (jobs submitted to succeeded), of echo jobs naming no key and of echo
/// jobs that each name one of 16 keys with a limit too high to bind — the cost of the leases, not of a
/// limit. Each mode runs on one fresh server (fresh database) in the order no key, keyed, keyed, no key
/// (drift over the run — a warming process, a growing store — falls on both alike), each window after
/// the jobs of the one before have ended; the rows are the two windows' mean.
/// </summary>
public sealed class Flow(BenchOptions options, Dictionary<string, double> figures)
{
    private const int Keys = 16;

    private int _next;

    public async Task<List<Measurement>> RunAsync()
    {
        var results = new List<Measurement>();
        await MeasureAsync("memory", [], results);
        await using var server = await PostgresServer.StartAsync();
        await MeasureAsync("PostgreSQL", ["--Cluster:Storage=Postgres", $"--ConnectionStrings:Postgres={await server.CreateDatabaseAsync()}"], results);
        return results;
    }

    private async Task MeasureAsync(string mode, string[] settings, List<Measurement> results)
    {
        var target = await Targets.StartPraisonAsync(settings: settings);
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = new Uri(target.Url), Timeout = TimeSpan.FromSeconds(30) };
            var (plainName, keyedName) = ($"submit ({mode}): no key", $"submit ({mode}): every job keyed");
            var plainFirst = await SubmitLoadAsync(http, plainName, keyed: false);
            var keyedFirst = await SubmitLoadAsync(http, keyedName, keyed: true);
            var keyed = Mean(keyedFirst, await SubmitLoadAsync(http, keyedName, keyed: true));
            var plain = Mean(plainFirst, await SubmitLoadAsync(http, plainName, keyed: false));
            (plainName, keyedName) = ($"drain ({mode}): no key", $"drain ({mode}): every job keyed");
            var plainDrainFirst = await DrainAsync(http, plainName, keyed: false);
            var keyedDrainFirst = await DrainAsync(http, keyedName, keyed: true);
            var keyedDrain = Mean(keyedDrainFirst, await DrainAsync(http, keyedName, keyed: true));
            var plainDrain = Mean(plainDrainFirst, await DrainAsync(http, plainName, keyed: false));
            results.AddRange([plain, keyed, plainDrain, keyedDrain]);
            figures[$"flow ({mode}): submit rate keyed / no key"] = keyed.PerSecond / plain.PerSecond;
            figures[$"flow ({mode}): drain rate keyed / no key"] = keyedDrain.PerSecond / plainDrain.PerSecond;
        }
        finally
        {
            await target.StopAsync();
        }
    }

    private object Body(bool keyed) => keyed
        ? new { prompt = "bench", recipe_name = "echo", concurrency_key = $"bench-{Interlocked.Increment(ref _next) % Keys}", concurrency_limit = 10_000 }
        : new { prompt = "bench", recipe_name = "echo" };

    private async Task<Measurement> SubmitLoadAsync(HttpClient http, string name, bool keyed)
    {
        await UntilIdleAsync(http);
        return await LoadGenerator.RunAsync(name, options.Concurrency, options.WarmUp, options.Duration,
            async ct => (await http.PostAsJsonAsync("/api/v1/runs", Body(keyed), ct)).StatusCode == System.Net.HttpStatusCode.Accepted);
    }

    private static Measurement Mean(Measurement a, Measurement b) => a with
    {
        Count = a.Count + b.Count,
        Errors = a.Errors + b.Errors,
        PerSecond = (a.PerSecond + b.PerSecond) / 2,
        P50Ms = (a.P50Ms + b.P50Ms) / 2,
        P99Ms = (a.P99Ms + b.P99Ms) / 2,
        CpuMsPerRequest = (a.CpuMsPerRequest + b.CpuMsPerRequest) / 2,
        AllocatedKbPerRequest = (a.AllocatedKbPerRequest + b.AllocatedKbPerRequest) / 2,
    };

    /// <summary><see cref="BenchOptions.Jobs"/> (at most 20,000) jobs submitted, until every one has succeeded; the rate is jobs over the whole time.</summary>
    private async Task<Measurement> DrainAsync(HttpClient http, string name, bool keyed)
    {
        var jobs = Math.Min(options.Jobs, 20_000);
        await UntilIdleAsync(http);
        var before = await SucceededAsync(http);
        var clock = Stopwatch.StartNew();
        var (next, refused) = (0, 0);
        await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= jobs)
            {
                using var response = await http.PostAsJsonAsync("/api/v1/runs", Body(keyed));
                if (response.StatusCode != System.Net.HttpStatusCode.Accepted)
                {
                    Interlocked.Increment(ref refused);
                }
            }
        }));
        var accepted = jobs - refused;
        await Eventually.Until(() => SucceededAsync(http), succeeded => succeeded >= before + accepted, $"{name}: every job to succeed", TimeSpan.FromMinutes(5));
        return new Measurement(name, accepted, refused, accepted / clock.Elapsed.TotalSeconds, double.NaN, double.NaN);
    }

    /// <summary>Waits until no job is queued or running (the submit loads' jobs have drained).</summary>
    private static Task<JsonObject> UntilIdleAsync(HttpClient http) =>
        Eventually.Until(
            async () => (await http.GetFromJsonAsync<JsonObject>("/stats"))!["store"]!["status_counts"]!.AsObject(),
            counts => (int?)counts["queued"] is null or 0 && (int?)counts["running"] is null or 0,
            "the submitted jobs to drain",
            TimeSpan.FromMinutes(5));

    private static async Task<int> SucceededAsync(HttpClient http) =>
        (int?)(await http.GetFromJsonAsync<JsonObject>("/stats"))!["store"]!["status_counts"]!["succeeded"] ?? 0;
}
