using System.Text.Json.Nodes;
using Praison.Orleans.Testing;

namespace Praison.Orleans.Bench;

/// <summary>
/// How soon a job with <c>depends_on</c> starts once its last parent has ended, in memory mode, against
/// the same server's start of a job that waits for nothing. Each trial submits its parents delayed by
/// <see cref="ParentDelay"/> (so the child is waiting when they end) and the child at once; the child's
/// <c>started_at</c> less its last parent's <c>completed_at</c> (one clock, the server's) is the sample.
/// The baseline is a plain echo's <c>started_at</c> less its <c>created_at</c>, submitted alone on the
/// same server. Trials alternate with 1 and 10 parents; a few run at once, so slots are never short.
/// </summary>
public sealed class Dependencies(BenchOptions options, Dictionary<string, double> figures)
{
    private static readonly TimeSpan ParentDelay = TimeSpan.FromMilliseconds(300);
    private const int AtOnce = 4;

    public async Task<List<Measurement>> RunAsync()
    {
        var target = await Targets.StartPraisonAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(target.Url), Timeout = TimeSpan.FromSeconds(30) };
            var trials = Math.Clamp(options.Jobs / 10, 20, 1_000);
            var plain = await SampleAsync(trials, _ => PlainStartAsync(http));
            var one = await SampleAsync(trials, _ => DependantStartAsync(http, parents: 1));
            var ten = await SampleAsync(trials, _ => DependantStartAsync(http, parents: 10));
            var results = new List<Measurement>
            {
                Measurement.From("start after submit: no depends_on", plain, 0, TimeSpan.FromSeconds(1)),
                Measurement.From("start after last parent: 1 parent", one, 0, TimeSpan.FromSeconds(1)),
                Measurement.From("start after last parent: 10 parents", ten, 0, TimeSpan.FromSeconds(1)),
            };
            foreach (var row in results)
            {
                figures[$"depends_on: {row.Name}: p99 ms"] = row.P99Ms;
            }

            return [.. results.Select(r => r with { PerSecond = double.NaN })];
        }
        finally
        {
            await target.StopAsync();
        }
    }

    private static async Task<List<double>> SampleAsync(int trials, Func<int, Task<double>> trial)
    {
        var samples = new List<double>();
        for (var done = 0; done < trials; done += AtOnce)
        {
            samples.AddRange(await Task.WhenAll(Enumerable.Range(done, Math.Min(AtOnce, trials - done)).Select(trial)));
        }

        return samples;
    }

    private static async Task<double> PlainStartAsync(HttpClient http)
    {
        var job = await SubmitAsync(http, new { prompt = "bench", recipe_name = "echo" });
        var status = await SucceededAsync(http, job);
        return (Time(status, "started_at") - Time(status, "created_at")).TotalMilliseconds;
    }

    private static async Task<double> DependantStartAsync(HttpClient http, int parents)
    {
        var ids = await Task.WhenAll(Enumerable.Range(0, parents).Select(_ =>
            SubmitAsync(http, new { prompt = "bench", recipe_name = "echo", delay_seconds = ParentDelay.TotalSeconds })));
        var child = await SubmitAsync(http, new { prompt = "bench", recipe_name = "echo", depends_on = ids });
        var status = await SucceededAsync(http, child);
        var ends = await Task.WhenAll(ids.Select(async id => Time(await SucceededAsync(http, id), "completed_at")));
        var after = (Time(status, "started_at") - ends.Max()).TotalMilliseconds;
        return after >= 0 ? after : throw new InvalidOperationException($"{child} started {-after} ms before its last parent ended");
    }

    private static async Task<string> SubmitAsync(HttpClient http, object body)
    {
        using var response = await http.PostAsJsonAsync("/api/v1/runs", body);
        response.EnsureSuccessStatusCode();
        return (string)(await response.Content.ReadFromJsonAsync<JsonObject>())!["job_id"]!;
    }

    private static Task<JsonObject> SucceededAsync(HttpClient http, string job) =>
        Eventually.Until(
            async () => (await http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{job}"))!,
            status => (string?)status["status"] == "succeeded" || ((string?)status["status"] is "failed" or "cancelled" ? throw new InvalidOperationException($"{job} ended {status["status"]}: {status["error"]}") : false),
            $"{job} to succeed",
            TimeSpan.FromMinutes(1));

    private static DateTimeOffset Time(JsonObject status, string field) => DateTimeOffset.Parse((string)status[field]!, System.Globalization.CultureInfo.InvariantCulture);
}
