using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Praison.Orleans.Client;
using Xunit.Abstractions;
using static Praison.Orleans.Tests.Client.ClientTesting;

namespace Praison.Orleans.Tests.Processes;

/// <summary>
/// The durable cluster as it is deployed: its store (Azurite, or a PostgreSQL server), three silo
/// processes and a gateway process on loopback, called through the typed client. One silo is killed with
/// SIGKILL in the middle of 100 jobs.
/// </summary>
public abstract class CrashTests<TStore>(ITestOutputHelper output) : ProcessClusterTests<TStore>
    where TStore : class, IAsyncDisposable
{
    private const int Jobs = 100;

    protected override int Silos => 3;

    [Fact]
    public Task KillNineOfOneSilo_EveryJobSucceedsOnce_AndTheGatewayOnlyEverSays503WithRetryAfter() => Explained(async (jobs, tally) =>
    {
        var session = "crash-" + Guid.NewGuid().ToString("N");
        var ids = new List<string>();
        foreach (var chunk in Enumerable.Range(0, Jobs).Chunk(10))
        {
            ids.AddRange(await Task.WhenAll(chunk.Select(async _ => (await jobs.SubmitAsync(Wait(6) with { SessionId = session })).JobId)));
        }

        // 100 jobs of 6 s on 30 slots run for about 20 s in waves: whenever the submits end (slowly, on a
        // loaded machine), some wave is running. Counted over every job, not the first few, which may be done.
        await Eventually.Until(
            async () => (await Task.WhenAll(ids.Select(id => jobs.GetAsync(id)))).Count(job => job.Status == JobStatuses.Running),
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
                    var job = await jobs.GetAsync(id);
                    if (job.IsFinished)
                    {
                        finals[id] = job.Status;
                        pending.Remove(id);
                        last = sinceKill.Elapsed;
                    }
                }

                return pending.Count;
            },
            left => left == 0,
            "every job to end",
            TimeSpan.FromMinutes(4));

        var listed = await ReadAllAsync(jobs.ListAsync(new JobListFilter { SessionId = session }));
        output.WriteLine($"last job finished {last.TotalSeconds:0.0} s after the kill; " +
                         $"{tally.Unavailable} responses were 503 with Retry-After (retried), {tally.Other} were other errors");
        Assert.All(finals.Values, status => Assert.Equal(JobStatuses.Succeeded, status));
        Assert.Equal(Jobs, finals.Count);
        Assert.Equal(ids.Order(), listed.Select(job => job.JobId).Order());
        Assert.All(Cluster.Processes.Where(p => p != killed), p => Assert.False(p.HasExited, $"{p.Name} exited:\n{p.Output}"));
    });

    /// <summary>
    /// Fan-in through a kill: 100 parents end while one silo is killed; their child starts exactly once,
    /// after the last of them, with every parent's result.
    /// </summary>
    [Fact]
    public Task KillNineWhileAHundredParentsEnd_TheirChildRunsOnceAfterTheLast_WithEveryResult() => Explained(async (jobs, _) =>
    {
        var parents = new List<string>();
        foreach (var chunk in Enumerable.Range(0, Jobs).Chunk(10))
        {
            parents.AddRange(await Task.WhenAll(chunk.Select(async _ => (await jobs.SubmitAsync(Wait(6))).JobId)));
        }

        var child = (await jobs.SubmitAsync(new JobRequest("report") { RecipeName = "echo", DependsOn = parents })).JobId;
        await Eventually.Until(
            async () => (await Task.WhenAll(parents.Select(id => jobs.GetAsync(id)))).Count(job => job.Status == JobStatuses.Succeeded),
            ended => ended >= 10,
            "parents to be ending",
            TimeSpan.FromMinutes(2));
        await Cluster.Silos[2].KillAsync();

        var done = await UntilEndedOnceAsync(jobs, child);
        var ends = await Task.WhenAll(parents.Select(id => jobs.GetAsync(id)));
        Assert.All(ends, end => Assert.Equal(JobStatuses.Succeeded, end.Status));
        Assert.True(done.StartedAt >= ends.Max(end => end.CompletedAt), "the child started before its last parent ended");
        var result = (await jobs.GetResultAsync(child)).Result!.Value.GetString()!;
        Assert.All(parents, id => Assert.Contains($"[{id}]\nwaited 6s", result));
        Assert.EndsWith("\n\nreport", result);
    });

    /// <summary>
    /// Fan-in of a batch through a kill: its 1,000 jobs end while one silo is killed; its then job starts
    /// exactly once, after the last of them, with every job's result.
    /// </summary>
    [Fact]
    public Task KillNineWhileABatchOfAThousandEnds_ItsThenJobRunsOnceAfterTheLast_WithEveryResult() => Explained(async (jobs, _) =>
    {
        const int size = 1_000;
        var created = await jobs.SubmitBatchAsync(new BatchRequest([.. Enumerable.Range(0, size).Select(_ => Wait(0.5, steps: 1))])
        {
            Then = new JobRequest("report") { RecipeName = "echo" },
        });
        var (batchId, then) = (created.BatchId, created.ThenJobId!);
        Assert.Equal(size, created.JobIds!.Count);
        await Eventually.Until(
            async () => (await jobs.GetBatchAsync(batchId, pageSize: 1)).Counts.Succeeded,
            succeeded => succeeded >= 100,
            "the batch's jobs to be ending",
            TimeSpan.FromMinutes(3));
        await Cluster.Silos[2].KillAsync();

        // Perhaps killed mid-creation: the then job exists once the batch has created its jobs (it is made last).
        await Eventually.Until(
            async () => (await jobs.GetBatchAsync(batchId, pageSize: 1)).Creating,
            creating => !creating,
            "the batch to have created its jobs",
            TimeSpan.FromMinutes(5));
        var done = await UntilEndedOnceAsync(jobs, then);
        var batch = await jobs.GetBatchAsync(batchId, pageSize: 1);
        Assert.Equal((JobStatuses.Succeeded, size), (batch.Status, batch.Counts.Succeeded));
        var all = new List<JobInfo>();
        for (var page = 1; page <= size / 100; page++)
        {
            all.AddRange((await jobs.GetBatchAsync(batchId, page, pageSize: 100)).Jobs!);
        }

        Assert.Equal(created.JobIds, all.Select(job => job.JobId));
        Assert.All(all, job => Assert.Equal(JobStatuses.Succeeded, job.Status));
        Assert.True(done.StartedAt >= all.Max(job => job.CompletedAt), "the then job started before the batch's last job ended");
        var result = (await jobs.GetResultAsync(then)).Result!.Value.GetString()!;
        Assert.All(created.JobIds, id => Assert.Contains($"\"{id}\":\"waited 0.5s\"", result));
        Assert.EndsWith("\n\nreport", result);
    });

    private static JobRequest Wait(double seconds, int steps = 6) =>
        new("") { RecipeName = "wait", RecipeConfig = new JsonObject { ["seconds"] = seconds, ["steps"] = steps } };

    /// <summary>The status of <paramref name="jobId"/> once it has ended, asserting it succeeded on its first attempt.</summary>
    private static async Task<JobInfo> UntilEndedOnceAsync(PraisonJobsClient jobs, string jobId)
    {
        var done = await Eventually.Until(() => jobs.GetAsync(jobId), job => job.IsFinished, $"{jobId} to end", TimeSpan.FromMinutes(5));
        Assert.Equal((JobStatuses.Succeeded, 1), (done.Status, done.Attempt)); // started once
        return done;
    }

    /// <summary>
    /// Runs <paramref name="test"/> with the typed client as a well-behaved application uses it: a 503
    /// with Retry-After is waited out and sent again (counted), any other refusal is counted and fails
    /// the call. Afterwards none may have been anything else; a failure carries the processes' last lines.
    /// </summary>
    private async Task Explained(Func<PraisonJobsClient, ResponseTally, Task> test)
    {
        var tally = new ResponseTally();
        // Up to 100 retries of a 503 (a second each) while a silo is declared dead; no call waits longer than 5 minutes.
        using var provider = Services(new Uri(Cluster.Url), maxRetries: 100, http: builder => builder.AddHttpMessageHandler(() => tally)
            .ConfigureHttpClient(http => http.Timeout = TimeSpan.FromMinutes(5)));
        try
        {
            await test(provider.GetRequiredService<PraisonJobsClient>(), tally);
        }
        catch (Exception exception) when (exception is PraisonJobsException or HttpRequestException or TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"{exception.GetType().Name}: {exception.Message}\n{Cluster.Output}");
        }

        Assert.True(tally.Other == 0, $"{tally.Other} answers were neither a success nor a 503 with Retry-After");
    }

    /// <summary>Counts every answer the gateway gave, attempt by attempt (inside the client's retries).</summary>
    private sealed class ResponseTally : DelegatingHandler
    {
        public int Unavailable;
        public int Other;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable && response.Headers.RetryAfter?.Delta is not null)
            {
                Interlocked.Increment(ref Unavailable);
            }
            else if (!response.IsSuccessStatusCode)
            {
                Interlocked.Increment(ref Other);
            }

            return response;
        }
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
