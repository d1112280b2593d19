using System.Diagnostics;
using System.Net.ServerSentEvents;
using System.Text.Json.Nodes;
using Praison.Orleans.Grains.Hosting;
using Praison.Orleans.Testing;

namespace Praison.Orleans.Bench;

/// <summary>The measurements of docs/benchmarks.md, each on systems the harness starts itself.</summary>
public sealed class Scenarios(BenchOptions options)
{
    private static readonly object EchoBody = new { prompt = "bench", recipe_name = "echo" };

    /// <summary>Figures that are not a rate or a latency (memory, writes per job, ratios), by name.</summary>
    public Dictionary<string, double> Figures { get; } = [];

    /// <summary>Submit throughput and latency of echo jobs: ours, bare Kestrel, Hangfire; same load generator.</summary>
    public async Task<List<Measurement>> SubmitAsync()
    {
        var results = new List<Measurement>();
        foreach (var start in new Func<Task<Target>>[] { () => Targets.StartPraisonAsync(), Targets.StartBareKestrelAsync, Targets.StartHangfireAsync })
        {
            var target = await start();
            results.Add(await SubmitLoadAsync(target));
            await target.StopAsync();
        }

        return results;
    }

    /// <summary>The submit load again with wrk in its own process and each system in its own (see <see cref="OutOfProcess"/>).</summary>
    public Task<List<Measurement>> SubmitOutOfProcessAsync() => OutOfProcess.SubmitAsync(options, Figures);

    /// <summary>Submit → terminal observed by the client: ours through the stream endpoint, Hangfire by its job state.</summary>
    public async Task<List<Measurement>> EndToEndAsync()
    {
        var ours = await Targets.StartPraisonAsync();
        var praison = await OurEndToEndAsync("end-to-end echo: praison (SSE)", ours);
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
    /// Submit and complete <see cref="BenchOptions.Jobs"/> echo jobs (or instant wait jobs of
    /// <see cref="BenchOptions.Steps"/> steps), keep them (retained, not deleted), then measure status,
    /// list (page 1 and page 400) and stats latency at that size. Reports the sustained rate, the process's peak
    /// working set and the managed heap per job just after the last finished and once finished jobs have
    /// been released from memory (the process also holds the load generator).
    /// </summary>
    public async Task<List<Measurement>> ScaleAsync()
    {
        var process = System.Diagnostics.Process.GetCurrentProcess();
        var target = await Targets.StartPraisonAsync();
        using var http = Client(target);
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var session = "scale-" + Guid.NewGuid().ToString("N");
        var ids = new string[options.Jobs];
        object job = options.Steps > 0
            ? new { prompt = "scale", recipe_name = "wait", recipe_config = new { seconds = 0, steps = options.Steps }, session_id = session }
            : new { prompt = "scale", recipe_name = "echo", session_id = session };
        var kind = options.Steps > 0 ? $"{options.Steps}-step wait" : "echo";
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < ids.Length; i = Interlocked.Increment(ref next))
            {
                ids[i] = await SubmitAsync(http, job, CancellationToken.None);
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

        // Finished jobs leave memory once idle (Jobs:FinishedJobIdleTime, at once by default): what retaining them costs is measured after that.
        await Task.Delay(TimeSpan.FromSeconds(10));
        var heapRetained = GC.GetTotalMemory(forceFullCollection: true);
        process.Refresh();
        var workingSetRetained = process.WorkingSet64;
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true); // gives back what the burst left committed
        process.Refresh();
        var workingSetCompacted = process.WorkingSet64;
        var random = new Random(1);
        var status = await LoadGenerator.RunAsync($"status at {ids.Length:N0} jobs", 1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5),
            async ct => (await http.GetAsync($"/api/v1/runs/{ids[random.Next(ids.Length)]}", ct)).IsSuccessStatusCode);
        var list = await LoadGenerator.RunAsync($"list page 1 of {ids.Length:N0} jobs", 1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5),
            async ct => (await http.GetAsync($"/api/v1/runs?session_id={session}&page_size=20", ct)).IsSuccessStatusCode);
        var deep = await LoadGenerator.RunAsync($"list page 400 of {ids.Length:N0} jobs", 1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5),
            async ct => (await http.GetAsync("/api/v1/runs?page=400&page_size=20", ct)).IsSuccessStatusCode);
        var stats = await LoadGenerator.RunAsync($"stats of {ids.Length:N0} jobs", 1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5),
            async ct => (await http.GetAsync("/stats", ct)).IsSuccessStatusCode);
        process.Refresh();
        await target.StopAsync();
        var peak = process.PeakWorkingSet64;
        Figures["scale: seconds to submit all"] = submitted.TotalSeconds;
        Figures["scale: seconds until all succeeded"] = completed.TotalSeconds;
        Figures["scale: peak working set MiB (whole process)"] = peak / 1048576.0;
        Figures["scale: managed heap growth MiB"] = (heapAfter - heapBefore) / 1048576.0;
        Figures["scale: managed heap bytes per job, just finished"] = (heapAfter - heapBefore) / (double)ids.Length;
        Figures["scale: managed heap bytes per retained job, released"] = (heapRetained - heapBefore) / (double)ids.Length;
        Figures["scale: working set MiB with all retained, released (whole process)"] = workingSetRetained / 1048576.0;
        Figures["scale: working set MiB with all retained, after an aggressive GC"] = workingSetCompacted / 1048576.0;
        return
        [
            new Measurement($"scale: {ids.Length:N0} {kind} jobs to succeeded", ids.Length, 0, ids.Length / completed.TotalSeconds, double.NaN, double.NaN),
            status,
            list,
            deep,
            stats,
        ];
    }

    /// <summary>
    /// What a 1 MiB prompt costs: <see cref="PromptJobs"/> echo jobs (whose result is the prompt again)
    /// submitted one after another, the managed heap they add per job just after they finished and once
    /// released from memory (the prompt and body limits raised to allow them; the defaults are 256 Ki
    /// characters and 1 MiB).
    /// </summary>
    public async Task<List<Measurement>> BigPromptAsync()
    {
        const int MiB = 1024 * 1024;
        var target = await Targets.StartPraisonAsync(settings: [$"--Api:MaxPromptChars={2 * MiB}", $"--Api:MaxRequestBodyBytes={4 * MiB}"]);
        using var http = Client(target);
        var prompt = new string('x', MiB);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var ids = new List<string>();
        for (var i = 0; i < PromptJobs; i++)
        {
            ids.Add(await SubmitAsync(http, new { prompt, recipe_name = "echo" }, CancellationToken.None));
        }

        foreach (var id in ids)
        {
            await Eventually.Until(
                async () => (string?)(await http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{id}"))!["status"],
                status => status == "succeeded", $"1 MiB job {id} to succeed", TimeSpan.FromMinutes(1));
        }

        var finished = GC.GetTotalMemory(forceFullCollection: true);
        await Task.Delay(TimeSpan.FromSeconds(10)); // past Jobs:FinishedJobIdleTime: the jobs leave memory
        var released = GC.GetTotalMemory(forceFullCollection: true);
        await target.StopAsync();
        Figures["1 MiB prompt: managed heap MiB per echo job, just finished"] = (finished - before) / (double)PromptJobs / MiB;
        Figures["1 MiB prompt: managed heap MiB per echo job, released"] = (released - before) / (double)PromptJobs / MiB;
        return [];
    }

    private const int PromptJobs = 40;

    /// <summary>
    /// Ours with Azure storage on Azurite: Azurite's own upsert rates (the ceiling of that store), then
    /// submit and end-to-end as above, then the storage writes one job costs, counted from Azurite's log.
    /// </summary>
    public async Task<List<Measurement>> PersistentAsync()
    {
        await Azurite.EnsureInstalledAsync();
        await using var azurite = await Azurite.StartAsync(countRequests: true);
        var results = new List<Measurement>
        {
            await RawTableUpsertsAsync(azurite.ConnectionString),
            await RawBlobUploadsAsync(azurite.ConnectionString),
        };
        var target = await Targets.StartPraisonAsync(azureStorage: azurite.ConnectionString);
        results.Add(await SubmitLoadAsync(target));
        results.Add(await OurEndToEndAsync("end-to-end echo: praison (Azure storage, SSE)", target));
        await CountWritesPerJobAsync(azurite, target);
        await target.StopAsync();
        return results;
    }

    /// <summary>The durable submit path on PostgreSQL: ours, Hangfire.PostgreSql and the one-INSERT ceiling (<see cref="Durable"/>).</summary>
    public Task<List<Measurement>> DurableAsync() => new Durable(options, Figures).RunAsync();

    /// <summary>What concurrency keys cost, in memory and on PostgreSQL (<see cref="Flow"/>).</summary>
    public Task<List<Measurement>> FlowAsync() => new Flow(options, Figures).RunAsync();

    public Task<List<Measurement>> DependenciesAsync() => new Dependencies(options, Figures).RunAsync();

    /// <summary>A 10,000-job batch's acceptance rate per job against single submits (<see cref="Batches"/>).</summary>
    public Task<List<Measurement>> BatchesAsync() => new Batches(options, Figures).RunAsync();

    /// <summary>The typed client's cost per call over raw HttpClient (<see cref="ClientOverhead"/>).</summary>
    public Task<List<Measurement>> ClientOverheadAsync() => new ClientOverhead(options, Figures).RunAsync();

    /// <summary>The submit load against 1, 2 and 3 silo processes behind one gateway process (Azure storage and clustering).</summary>
    public async Task<List<Measurement>> ScaleOutAsync()
    {
        await Azurite.EnsureInstalledAsync();
        await using var azurite = await Azurite.StartAsync();
        var results = new List<Measurement>();
        for (var silos = 1; silos <= 3; silos++)
        {
            var target = await Targets.StartClusterAsync(silos, azurite.ConnectionString);
            try
            {
                results.Add(await SubmitLoadAsync(target));
            }
            finally
            {
                await target.StopAsync();
            }

            Figures[$"scale-out: submit rate with {silos} silo processes / with 1"] = results[^1].PerSecond / results[0].PerSecond;
        }

        return results;
    }

    private async Task<Measurement> SubmitLoadAsync(Target target)
    {
        using var http = Client(target);
        return await LoadGenerator.RunAsync($"submit: {target.Name}", options.Concurrency, options.WarmUp, options.Duration,
            async ct => (await http.PostAsJsonAsync("/api/v1/runs", EchoBody, ct)).StatusCode == System.Net.HttpStatusCode.Accepted);
    }

    private async Task<Measurement> OurEndToEndAsync(string name, Target target)
    {
        using var http = Client(target);
        return await LoadGenerator.RunAsync(name, 1, options.WarmUp, options.Duration, async ct =>
        {
            var id = await SubmitAsync(http, EchoBody, ct);
            using var response = await http.GetAsync($"/api/v1/runs/{id}/stream", HttpCompletionOption.ResponseHeadersRead, ct);
            await foreach (var item in SseParser.Create(await response.Content.ReadAsStreamAsync(ct)).EnumerateAsync(ct))
            {
                if (item.EventType is "result" or "error" or "cancelled")
                {
                    return item.EventType == "result";
                }
            }

            return false;
        });
    }

    /// <summary>Upserts of a small entity (the size of an index entry) straight through the Azure SDK.</summary>
    private async Task<Measurement> RawTableUpsertsAsync(string connectionString)
    {
        var table = new Azure.Data.Tables.TableClient(connectionString, "benchraw");
        await table.CreateIfNotExistsAsync();
        return await LoadGenerator.RunAsync("Azurite raw: table upsert (Azure SDK)", options.Concurrency, options.WarmUp, options.Duration, async ct =>
        {
            var entity = new Azure.Data.Tables.TableEntity("tenant", Guid.NewGuid().ToString("N"))
            {
                ["Status"] = "queued", ["AgentId"] = "recipe:echo", ["CreatedAt"] = DateTimeOffset.UtcNow, ["Snapshot"] = new string('x', 400),
            };
            return !(await table.UpsertEntityAsync(entity, cancellationToken: ct)).IsError;
        });
    }

    /// <summary>Uploads of a 1 KB blob (about a job record) straight through the Azure SDK.</summary>
    private async Task<Measurement> RawBlobUploadsAsync(string connectionString)
    {
        var container = new Azure.Storage.Blobs.BlobContainerClient(connectionString, "benchraw");
        await container.CreateIfNotExistsAsync();
        var body = BinaryData.FromBytes(new byte[1024]);
        return await LoadGenerator.RunAsync("Azurite raw: blob upload 1 KB (Azure SDK)", options.Concurrency, options.WarmUp, options.Duration, async ct =>
            !(await container.GetBlobClient(Guid.NewGuid().ToString("N")).UploadAsync(body, overwrite: true, ct)).GetRawResponse().IsError);
    }

    /// <summary>
    /// Runs a batch of echo jobs to their end on a quiet system and divides the storage writes Azurite
    /// served meanwhile (until writing stops) by the number of jobs; records the total and each resource's share.
    /// </summary>
    private async Task CountWritesPerJobAsync(Azurite azurite, Target target)
    {
        const int Jobs = 500;
        using var http = Client(target);
        await WaitForQuietAsync(azurite); // the load before has written its last transitions
        var before = azurite.Requests.Snapshot();
        var session = "writes-" + Guid.NewGuid().ToString("N");
        await Parallel.ForAsync(0, Jobs, new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency }, async (_, ct) =>
            await SubmitAsync(http, new { prompt = "writes", recipe_name = "echo", session_id = session }, ct));
        await Eventually.Until(
            async () => (int)(await http.GetFromJsonAsync<JsonObject>($"/api/v1/runs?session_id={session}&status=succeeded&page_size=1"))!["total"]!,
            succeeded => succeeded == Jobs,
            $"{Jobs} jobs to succeed",
            TimeSpan.FromMinutes(2));
        await WaitForQuietAsync(azurite);
        // Reads of the index are left out: this harness polls the list; a job's own reads are its record's.
        var requests = azurite.Requests.Since(before).Where(r => StorageRequests.IsWrite(r.Key) || r.Key.EndsWith(" grainstate", StringComparison.Ordinal)).ToList();
        Figures["persistent: storage writes per job"] = requests.Where(r => StorageRequests.IsWrite(r.Key)).Sum(r => r.Value) / (double)Jobs;
        foreach (var (resource, count) in requests.OrderBy(w => w.Key, StringComparer.Ordinal))
        {
            Figures[$"persistent: storage requests per job, {resource}"] = count / (double)Jobs;
        }

        // How evenly the index spread these jobs' rows (a job row and a due row each) over the tenant's partitions.
        var index = new Azure.Data.Tables.TableClient(azurite.ConnectionString, Praison.Orleans.Grains.Index.AzureTableJobIndex.TableName);
        var rows = new Dictionary<string, int>();
        await foreach (var row in index.QueryAsync<Azure.Data.Tables.TableEntity>(r => r.GetString("SessionId") == session, select: ["PartitionKey"]))
        {
            rows[row.PartitionKey] = rows.GetValueOrDefault(row.PartitionKey) + 1;
        }

        Figures["persistent: index partitions holding the jobs' rows"] = rows.Count;
        Figures["persistent: busiest partition's rows / mean"] = rows.Values.Max() / rows.Values.Average();
    }

    /// <summary>Waits (bounded) until Azurite has served no write for two seconds.</summary>
    private static async Task WaitForQuietAsync(Azurite azurite)
    {
        var last = -1L;
        await Eventually.Until(
            async () =>
            {
                await Task.Delay(TimeSpan.FromSeconds(2));
                var (previous, now) = (last, azurite.Requests.Snapshot().Where(r => StorageRequests.IsWrite(r.Key)).Sum(r => r.Value));
                last = now;
                return now == previous;
            },
            quiet => quiet,
            "Azurite to serve no more writes",
            TimeSpan.FromMinutes(1));
    }

    private static async Task<string> SubmitAsync(HttpClient http, object body, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync("/api/v1/runs", body, ct);
        return (string)(await response.Content.ReadFromJsonAsync<JsonObject>(ct))!["job_id"]!;
    }

    private static HttpClient Client(Target target) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = new Uri(target.Url) };
}
