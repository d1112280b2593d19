using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Praison.Orleans.Bench;

/// <summary>
/// How fast a batch of <see cref="Size"/> jobs is accepted, per job, against single submits of the same
/// echo job on the same server (memory mode), alternated: single, batches, single, the faster single
/// run the baseline. A batch counts only
/// when it answered 201 (every job created) with <see cref="Size"/> job ids; its rate is the jobs it made
/// over the time from its request to that answer.
/// </summary>
public sealed class Batches(BenchOptions options, Dictionary<string, double> figures)
{
    public const int Size = 10_000;
    private const int Trials = 3;

    public async Task<List<Measurement>> RunAsync()
    {
        var target = await Targets.StartPraisonAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(target.Url), Timeout = TimeSpan.FromMinutes(2) };
            var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { jobs = Enumerable.Range(0, Size).Select(i => new { prompt = $"bench {i}", recipe_name = "echo" }) }));
            await BatchAsync(http, body); // warm-up: the batch path compiled and its grains' types loaded

            var before = await SinglesAsync(http, "batch baseline: single submits (before)");
            var latencies = new List<double>();
            for (var trial = 0; trial < Trials; trial++)
            {
                latencies.Add(await BatchAsync(http, body));
            }

            var after = await SinglesAsync(http, "batch baseline: single submits (after)");
            var batchRate = Size * Trials / (latencies.Sum() / 1000);
            var batches = Measurement.From($"batch of {Size}: jobs accepted", latencies, 0, TimeSpan.FromSeconds(1)) with { Count = Size * Trials, PerSecond = batchRate };
            var singleRate = Math.Max(before.PerSecond, after.PerSecond); // the faster: the first runs before its path is fully compiled
            figures["batch: jobs per s accepted in batches / single submits"] = batchRate / singleRate;
            return [before, batches, after];
        }
        finally
        {
            await target.StopAsync();
        }
    }

    private Task<Measurement> SinglesAsync(HttpClient http, string name) =>
        LoadGenerator.RunAsync(name, options.Concurrency, options.WarmUp, options.Duration,
            async ct => (await http.PostAsJsonAsync("/api/v1/runs", new { prompt = "bench", recipe_name = "echo" }, ct)).StatusCode == HttpStatusCode.Accepted);

    /// <summary>One batch, in milliseconds from request to its 201; throws unless all its jobs were created.</summary>
    private static async Task<double> BatchAsync(HttpClient http, byte[] body)
    {
        var clock = Stopwatch.StartNew();
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        using var response = await http.PostAsync("/api/v1/batches", content);
        var elapsed = clock.Elapsed.TotalMilliseconds;
        var created = await response.Content.ReadFromJsonAsync<JsonObject>();
        if (response.StatusCode != HttpStatusCode.Created || created!["job_ids"]!.AsArray().Count != Size)
        {
            throw new InvalidOperationException($"A batch answered {(int)response.StatusCode}: {created?.ToJsonString()}");
        }

        return elapsed;
    }
}
