using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text.Json.Nodes;
using Praison.Orleans.Grains.Hosting;
using Praison.Orleans.Grains.Recipes;

namespace Praison.Orleans.Bench;

/// <summary>The measurements of docs/benchmarks.md, each on systems the harness starts itself.</summary>
public sealed class Scenarios(BenchOptions options)
{
    private static readonly object EchoBody = new { prompt = "bench", recipe_name = "echo" };

    /// <summary>Submit throughput and latency of echo jobs: ours, bare Kestrel, Hangfire; same load generator.</summary>
    public async Task<List<Measurement>> SubmitAsync()
    {
        var results = new List<Measurement>();
        foreach (var start in new Func<Task<Target>>[] { () => Targets.StartPraisonAsync(), Targets.StartBareKestrelAsync, Targets.StartHangfireAsync })
        {
            var target = await start();
            using var http = Client(target);
            results.Add(await LoadGenerator.RunAsync($"submit: {target.Name}", options.Concurrency, options.WarmUp, options.Duration,
                async ct => (await http.PostAsJsonAsync("/api/v1/runs", EchoBody, ct)).StatusCode == System.Net.HttpStatusCode.Accepted));
            await target.StopAsync();
        }

        return results;
    }

    /// <summary>Submit → terminal observed by the client: ours through the stream endpoint, Hangfire by its job state.</summary>
    public async Task<List<Measurement>> EndToEndAsync()
    {
        var ours = await Targets.StartPraisonAsync();
        using var oursHttp = Client(ours);
        var praison = await LoadGenerator.RunAsync("end-to-end echo: praison (SSE)", 1, options.WarmUp, options.Duration, async ct =>
        {
            var id = await SubmitAsync(oursHttp, EchoBody, ct);
            using var response = await oursHttp.GetAsync($"/api/v1/runs/{id}/stream", HttpCompletionOption.ResponseHeadersRead, ct);
            await foreach (var item in SseParser.Create(await response.Content.ReadAsStreamAsync(ct)).EnumerateAsync(ct))
            {
                if (item.EventType is "result" or "error" or "cancelled")
                {
                    return item.EventType == "result";
                }
            }

            return false;
        });
        await ours.StopAsync();

        var hangfire = await Targets.StartHangfireAsync();
        using var hangfireHttp = Client(hangfire);
        var theirs = await LoadGenerator.RunAsync("end-to-end echo: Hangfire (state polled)", 1, options.WarmUp, options.Duration, async ct =>
        {
            var id = await SubmitAsync(hangfireHttp, EchoBody, ct);
            while (!ct.IsCancellationRequested)
            {
                var state = (string?)(await hangfireHttp.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{id}", ct))!["status"];
                if (state is "Succeeded")
                {
                    return true;
                }

                await Task.Yield();
            }

            return false;
        });
        await hangfire.StopAsync();
        return [praison, theirs];
    }

    /// <summary>Cancel of a running job: until the recipe observes its token, and until the API says cancelled.</summary>
    public async Task<List<Measurement>> CancelAsync()
    {
        var target = await Targets.StartPraisonAsync(services => services.AddRecipe<BlockingRecipe>());
        using var http = Client(target);
        var observed = new List<double>();
        var answered = new List<double>();
        for (var i = 0; i < options.Cancels; i++)
        {
            var id = await SubmitAsync(http, new { prompt = "", recipe_name = BlockingRecipe.RecipeName }, CancellationToken.None);
            await BlockingRecipe.Started(id).WaitAsync(TimeSpan.FromSeconds(30));
            var sentAt = Stopwatch.GetTimestamp();
            using var response = await http.PostAsync($"/api/v1/runs/{id}/cancel", null);
            var cancelled = (string?)(await response.Content.ReadFromJsonAsync<JsonObject>())!["status"] == "cancelled";
            answered.Add(Stopwatch.GetElapsedTime(sentAt).TotalMilliseconds);
            var seenAt = await BlockingRecipe.Observed(id).WaitAsync(TimeSpan.FromSeconds(30));
            observed.Add(Stopwatch.GetElapsedTime(sentAt, seenAt).TotalMilliseconds);
            if (!cancelled)
            {
                throw new InvalidOperationException($"Cancel of {id} did not answer cancelled.");
            }
        }

        await target.StopAsync();
        var window = TimeSpan.FromSeconds(1);
        return
        [
            Measurement.From("cancel → recipe observes token", observed, 0, window) with { PerSecond = double.NaN },
            Measurement.From("cancel → status cancelled (API answer)", answered, 0, window) with { PerSecond = double.NaN },
        ];
    }

    /// <summary>
    /// Submit and complete <see cref="BenchOptions.Jobs"/> echo jobs, keep them (retained, not deleted),
    /// then measure status and list latency at that size. Reports the sustained rate, the process's peak
    /// working set and the managed heap per retained job (the process also holds the load generator).
    /// </summary>
    public async Task<List<Measurement>> ScaleAsync()
    {
        var process = System.Diagnostics.Process.GetCurrentProcess();
        var target = await Targets.StartPraisonAsync();
        using var http = Client(target);
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var session = "scale-" + Guid.NewGuid().ToString("N");
        var ids = new string[options.Jobs];
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < ids.Length; i = Interlocked.Increment(ref next))
            {
                ids[i] = await SubmitAsync(http, new { prompt = "scale", recipe_name = "echo", session_id = session }, CancellationToken.None);
            }
        })));
        var submitted = clock.Elapsed;
        var deadline = clock.Elapsed + TimeSpan.FromMinutes(10);
        while ((int)(await http.GetFromJsonAsync<JsonObject>($"/api/v1/runs?session_id={session}&status=succeeded&page_size=1"))!["total"]! < ids.Length)
        {
            if (clock.Elapsed > deadline)
            {
                throw new TimeoutException($"Not all {ids.Length:N0} jobs succeeded within 10 minutes of the first submit.");
            }

            await Task.Delay(500);
        }

        var completed = clock.Elapsed;
        process.Refresh();
        var heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        var random = new Random(1);
        var status = await LoadGenerator.RunAsync($"status at {ids.Length:N0} jobs", 1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5),
            async ct => (await http.GetAsync($"/api/v1/runs/{ids[random.Next(ids.Length)]}", ct)).IsSuccessStatusCode);
        var list = await LoadGenerator.RunAsync($"list page 1 of {ids.Length:N0} jobs", 1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5),
            async ct => (await http.GetAsync($"/api/v1/runs?session_id={session}&page_size=20", ct)).IsSuccessStatusCode);
        process.Refresh();
        await target.StopAsync();
        var peak = process.PeakWorkingSet64;
        Console.WriteLine($"scale: {ids.Length:N0} jobs submitted in {submitted.TotalSeconds:0.0} s, all succeeded after {completed.TotalSeconds:0.0} s " +
                          $"({ids.Length / completed.TotalSeconds:0} jobs/s sustained); peak working set {peak / 1048576.0:0} MiB; " +
                          $"managed heap +{(heapAfter - heapBefore) / 1048576.0:0} MiB = {(heapAfter - heapBefore) / (double)ids.Length:0} bytes per retained job");
        return
        [
            new Measurement($"scale: {ids.Length:N0} echo jobs to succeeded", ids.Length, 0, ids.Length / completed.TotalSeconds, double.NaN, double.NaN),
            status,
            list,
        ];
    }

    private static async Task<string> SubmitAsync(HttpClient http, object body, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync("/api/v1/runs", body, ct);
        return (string)(await response.Content.ReadFromJsonAsync<JsonObject>(ct))!["job_id"]!;
    }

    private static HttpClient Client(Target target) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = new Uri(target.Url) };
}

/// <summary>A recipe that waits for its token and records the moment it observed it (a Stopwatch timestamp).</summary>
public sealed class BlockingRecipe : IRecipe
{
    public const string RecipeName = "bench-block";

    private static readonly ConcurrentDictionary<string, TaskCompletionSource> StartedJobs = new();
    private static readonly ConcurrentDictionary<string, TaskCompletionSource<long>> ObservedJobs = new();

    public string Name => RecipeName;

    public static Task Started(string jobId) => StartedJobs.GetOrAdd(jobId, _ => new()).Task;

    /// <summary>The <see cref="Stopwatch.GetTimestamp"/> at which the job's recipe saw its token fire.</summary>
    public static Task<long> Observed(string jobId) => ObservedJobs.GetOrAdd(jobId, _ => new()).Task;

    public async Task<RecipeOutput> RunAsync(RecipeContext context, CancellationToken cancellationToken)
    {
        StartedJobs.GetOrAdd(context.JobId, _ => new()).TrySetResult();
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            ObservedJobs.GetOrAdd(context.JobId, _ => new()).TrySetResult(Stopwatch.GetTimestamp());
            throw;
        }

        return RecipeOutput.FromText("");
    }
}
