using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Praison.Orleans.Tests.Processes;

/// <summary>
/// The durable cluster as it is deployed: its store (Azurite, or a PostgreSQL server), three silo
/// processes and a gateway process on loopback. One silo is killed with SIGKILL in the middle of 100 jobs.
/// </summary>
public abstract class CrashTests<TStore>(ITestOutputHelper output) : ProcessClusterTests<TStore>
    where TStore : class, IAsyncDisposable
{
    private const int Jobs = 100;

    protected override int Silos => 3;

    [Fact]
    public async Task KillNineOfOneSilo_EveryJobSucceedsOnce_AndTheGatewayOnlyEverSays503WithRetryAfter()
    {
        var session = "crash-" + Guid.NewGuid().ToString("N");
        var tally = new ResponseTally();
        var ids = new List<string>();
        foreach (var chunk in Enumerable.Range(0, Jobs).Chunk(10))
        {
            ids.AddRange(await Task.WhenAll(chunk.Select(_ => Retrying(tally, () => Http.PostAsJsonAsync("/api/v1/runs", new
            {
                prompt = "", recipe_name = "wait", session_id = session, recipe_config = new { seconds = 6, steps = 6 },
            }), body => (string)body["job_id"]!))));
        }

        // 100 jobs of 6 s on 30 slots run for about 20 s in waves: whenever the submits end (slowly, on a
        // loaded machine), some wave is running. Counted over every job, not the first few, which may be done.
        await Eventually.Until(
            async () => (await Task.WhenAll(ids.Select(id => StatusAsync(tally, id)))).Count(s => s == "running"),
            running => running >= 10,
            "jobs to be running on every silo",
            TimeSpan.FromMinutes(1));
        var killed = Cluster.Silos[1];
        var sinceKill = Stopwatch.StartNew();
        await killed.KillAsync();

        var last = TimeSpan.Zero;
        var pending = ids.ToHashSet();
        var finals = new Dictionary<string, string>();
        await Eventually.Until(
            async () =>
            {
                foreach (var id in pending.ToList())
                {
                    var status = await StatusAsync(tally, id);
                    if (status is "succeeded" or "failed" or "cancelled")
                    {
                        finals[id] = status;
                        pending.Remove(id);
                        last = sinceKill.Elapsed;
                    }
                }

                return pending.Count;
            },
            left => left == 0,
            "every job to end",
            TimeSpan.FromMinutes(4));

        var listed = await Retrying(tally, () => Http.GetAsync($"/api/v1/runs?session_id={session}&page_size=100"), body => body);
        output.WriteLine($"last job finished {last.TotalSeconds:0.0} s after the kill; " +
                         $"{tally.Unavailable} responses were 503 with Retry-After (retried), {tally.Other} were other errors");
        Assert.All(finals.Values, status => Assert.Equal("succeeded", status));
        Assert.Equal(Jobs, finals.Count);
        Assert.Equal(Jobs, (int)listed["total"]!);
        Assert.Equal(ids.Order(), listed["jobs"]!.AsArray().Select(j => (string)j!["job_id"]!).Order());
        Assert.Equal(0, tally.Other);
        Assert.All(Cluster.Processes.Where(p => p != killed), p => Assert.False(p.HasExited, $"{p.Name} exited:\n{p.Output}"));
    }

    /// <summary>
    /// Fan-in through a kill: 100 parents end while one silo is killed; their child starts exactly once,
    /// after the last of them, with every parent's result.
    /// </summary>
    [Fact]
    public async Task KillNineWhileAHundredParentsEnd_TheirChildRunsOnceAfterTheLast_WithEveryResult()
    {
        var tally = new ResponseTally();
        var parents = new List<string>();
        foreach (var chunk in Enumerable.Range(0, Jobs).Chunk(10))
        {
            parents.AddRange(await Task.WhenAll(chunk.Select(_ => Retrying(tally, () => Http.PostAsJsonAsync("/api/v1/runs", new
            {
                prompt = "", recipe_name = "wait", recipe_config = new { seconds = 6, steps = 6 },
            }), body => (string)body["job_id"]!))));
        }

        var child = await Retrying(tally, () => Http.PostAsJsonAsync("/api/v1/runs", new { prompt = "report", recipe_name = "echo", depends_on = parents }),
            body => (string)body["job_id"]!);
        await Eventually.Until(
            async () => (await Task.WhenAll(parents.Select(id => StatusAsync(tally, id)))).Count(s => s == "succeeded"),
            ended => ended >= 10,
            "parents to be ending",
            TimeSpan.FromMinutes(2));
        await Cluster.Silos[2].KillAsync();

        var done = await UntilEndedOnceAsync(tally, child);
        var ends = await Task.WhenAll(parents.Select(id => Retrying(tally, () => Http.GetAsync($"/api/v1/runs/{id}"), body => body)));
        Assert.All(ends, end => Assert.Equal("succeeded", (string)end["status"]!));
        var lastEnd = ends.Max(end => DateTimeOffset.Parse((string)end["completed_at"]!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(DateTimeOffset.Parse((string)done["started_at"]!, System.Globalization.CultureInfo.InvariantCulture) >= lastEnd, "the child started before its last parent ended");
        var result = await Retrying(tally, () => Http.GetAsync($"/api/v1/runs/{child}/result"), body => (string)body["result"]!);
        Assert.All(parents, id => Assert.Contains($"[{id}]\nwaited 6s", result));
        Assert.EndsWith("\n\nreport", result);
        Assert.Equal(0, tally.Other);
    }

    /// <summary>
    /// Fan-in of a batch through a kill: its 1,000 jobs end while one silo is killed; its then job starts
    /// exactly once, after the last of them, with every job's result.
    /// </summary>
    [Fact]
    public async Task KillNineWhileABatchOfAThousandEnds_ItsThenJobRunsOnceAfterTheLast_WithEveryResult()
    {
        const int size = 1_000;
        var tally = new ResponseTally();
        var created = await Retrying(tally, () => Http.PostAsJsonAsync("/api/v1/batches", new
        {
            jobs = Enumerable.Range(0, size).Select(_ => new { prompt = "", recipe_name = "wait", recipe_config = new { seconds = 0.5, steps = 1 } }),
            then = new { prompt = "report", recipe_name = "echo" },
        }), body => body);
        var (batchId, then) = ((string)created["batch_id"]!, (string)created["then_job_id"]!);
        var jobIds = created["job_ids"]!.AsArray().Select(id => (string)id!).ToList();
        Assert.Equal(size, jobIds.Count);
        await Eventually.Until(
            () => Retrying(tally, () => Http.GetAsync($"/api/v1/batches/{batchId}?page_size=1"), body => (int)body["counts"]!["succeeded"]!),
            succeeded => succeeded >= 100,
            "the batch's jobs to be ending",
            TimeSpan.FromMinutes(3));
        await Cluster.Silos[2].KillAsync();

        // Perhaps killed mid-creation: the then job exists once the batch has created its jobs (it is made last).
        await Eventually.Until(
            () => Retrying(tally, () => Http.GetAsync($"/api/v1/batches/{batchId}?page_size=1"), body => (bool)body["creating"]!),
            creating => !creating,
            "the batch to have created its jobs",
            TimeSpan.FromMinutes(5));
        var done = await UntilEndedOnceAsync(tally, then);
        var batch = await Retrying(tally, () => Http.GetAsync($"/api/v1/batches/{batchId}?page_size=1"), body => body);
        Assert.Equal("succeeded", (string)batch["status"]!);
        Assert.Equal(size, (int)batch["counts"]!["succeeded"]!);
        var jobs = new List<JsonObject>();
        for (var page = 1; page <= size / 100; page++)
        {
            jobs.AddRange(await Retrying(tally, () => Http.GetAsync($"/api/v1/batches/{batchId}?page={page}&page_size=100"),
                body => body["jobs"]!.AsArray().Select(job => job!.AsObject())));
        }

        Assert.Equal(jobIds, jobs.Select(job => (string)job["job_id"]!));
        Assert.All(jobs, job => Assert.Equal("succeeded", (string)job["status"]!));
        var lastEnd = jobs.Max(job => DateTimeOffset.Parse((string)job["completed_at"]!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(DateTimeOffset.Parse((string)done["started_at"]!, System.Globalization.CultureInfo.InvariantCulture) >= lastEnd, "the then job started before the batch's last job ended");
        var result = await Retrying(tally, () => Http.GetAsync($"/api/v1/runs/{then}/result"), body => (string)body["result"]!);
        Assert.All(jobIds, id => Assert.Contains($"\"{id}\":\"waited 0.5s\"", result));
        Assert.EndsWith("\n\nreport", result);
        Assert.Equal(0, tally.Other);
    }

    /// <summary>The status body of <paramref name="jobId"/> once it has ended, asserting it succeeded on its first attempt.</summary>
    private async Task<JsonObject> UntilEndedOnceAsync(ResponseTally tally, string jobId)
    {
        var done = await Eventually.Until(
            () => Retrying(tally, () => Http.GetAsync($"/api/v1/runs/{jobId}"), body => body),
            body => (string?)body["status"] is "succeeded" or "failed" or "cancelled",
            $"{jobId} to end",
            TimeSpan.FromMinutes(5));
        Assert.Equal("succeeded", (string)done["status"]!);
        Assert.Equal(1, (int)done["attempt"]!); // started once
        return done;
    }

    private Task<string> StatusAsync(ResponseTally tally, string jobId) =>
        Retrying(tally, () => Http.GetAsync($"/api/v1/runs/{jobId}"), body => (string)body["status"]!);

    /// <summary>
    /// Sends as a well-behaved client: a 503 with Retry-After is waited out and retried (and counted);
    /// any other failure is counted and fails the request, with the processes' last lines to say why.
    /// </summary>
    private async Task<T> Retrying<T>(ResponseTally tally, Func<Task<HttpResponseMessage>> send, Func<JsonObject, T> read)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var response = await send();
            if (response.IsSuccessStatusCode)
            {
                return read((await response.Content.ReadFromJsonAsync<JsonObject>())!);
            }

            if (response.StatusCode == HttpStatusCode.ServiceUnavailable && response.Headers.RetryAfter?.Delta is { } wait && attempt < 180)
            {
                Interlocked.Increment(ref tally.Unavailable);
                await Task.Delay(wait);
                continue;
            }

            Interlocked.Increment(ref tally.Other);
            throw new HttpRequestException($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}\n{Cluster.Output}");
        }
    }

    private sealed class ResponseTally
    {
        public int Unavailable;
        public int Other;
    }
}

[Trait("Category", "Process")]
[Collection(ProcessClusterCollection.Name)]
public sealed class AzureCrashTests(ITestOutputHelper output) : CrashTests<Azurite>(output)
{
    protected override Task<Azurite> StartStoreAsync() => Azurite.StartAsync();

    protected override Task<ProcessCluster> StartClusterAsync(Azurite store, int silos) => ProcessCluster.StartAsync(store.ConnectionString, silos);
}

[Trait("Category", "Process")]
[Collection(ProcessClusterCollection.Name)]
public sealed class PostgresCrashTests(ITestOutputHelper output) : CrashTests<PostgresServer>(output)
{
    protected override Task<PostgresServer> StartStoreAsync() => PostgresServer.StartAsync();

    protected override async Task<ProcessCluster> StartClusterAsync(PostgresServer store, int silos) =>
        await ProcessCluster.StartOnPostgresAsync(await store.CreateDatabaseAsync(), silos);
}

/// <summary>
/// Tests that start a cluster of processes run alone, after the parallel ones: five processes and
/// Azurite starting on two cores beside the whole suite could take minutes to join.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessClusterCollection
{
    public const string Name = "process cluster";
}
