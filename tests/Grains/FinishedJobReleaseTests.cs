using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Praison.Orleans.Grains.Jobs;

namespace Praison.Orleans.Tests.Grains;

/// <summary>
/// A memory-mode cluster of its own, whose job activations the tests count; its finished jobs leave
/// memory as soon as nobody uses them, as memory mode's default has it.
/// </summary>
public sealed class ReleaseAtOnceFixture : JobsClusterFixture
{
    protected override int SiloCount => 2;
}

/// <summary>
/// Finished jobs cost no activation: once unwatched (and their webhook settled) they are deactivated,
/// and every read — status, result, list, stream, a stream resumed by Last-Event-ID — answers from storage,
/// a stream with the states its watchers saw (coalesced: every status change and the progress reached at each).
/// </summary>
public sealed class FinishedJobReleaseTests(ReleaseAtOnceFixture fixture) : IClassFixture<ReleaseAtOnceFixture>
{
    private HttpClient Http => fixture.Http;

    [Fact]
    public async Task FinishedJobs_LeaveMemory_AndStillAnswerEveryReadFromStorage()
    {
        var session = "release-" + Guid.NewGuid().ToString("N");
        var running = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "wait", recipe_config = new { seconds = 2, steps = 4 }, session_id = session });
        var live = Http.ReadAllAsync(running); // what a client streaming it from the start sees
        await Eventually.Until(ActiveJobsAsync, active => active > 0, "the running job to count as active"); // the count sees jobs
        var ids = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            Http.SubmitJobAsync(new { prompt = $"kept {i}", recipe_name = "echo", session_id = session })));
        await Eventually.Until(
            async () => (int)(await Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs?session_id={session}&status=succeeded"))!["total"]!,
            succeeded => succeeded == ids.Length + 1,
            "every job to succeed");

        await UntilNoJobIsActiveAsync();

        for (var i = 0; i < ids.Length; i++)
        {
            var status = (await Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{ids[i]}"))!;
            Assert.Equal("succeeded", (string?)status["status"]);
            var result = (await Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{ids[i]}/result"))!;
            Assert.Equal($"kept {i}", (string?)result["result"]);
        }

        await UntilNoJobIsActiveAsync(); // the reads above woke them; they go again
        var watched = await live;
        var replayed = await Http.ReadAllAsync(running);
        Assert.Equal(watched.Coalesced().Describe(), replayed.Describe()); // its states, under the ids they had
        Assert.True(replayed.Count < watched.Count, "the record keeps the progress reached at each status, not every report");
        Assert.Equal(["status", "progress", "status"], replayed.Take(3).Select(e => e.EventType));
        Assert.Equal(["status", "result"], replayed.TakeLast(2).Select(e => e.EventType));
        Assert.Equal(replayed.Select(e => long.Parse(e.EventId!)).Order(), replayed.Select(e => long.Parse(e.EventId!)));

        await UntilNoJobIsActiveAsync();
        var middle = replayed.Count / 2;
        var resumed = await Http.ReadAllAsync(running, lastEventId: replayed[middle].EventId);
        Assert.Equal(replayed.Skip(middle + 1).Describe(), resumed.Describe()); // nothing repeated, nothing missed
        var echoed = await Http.ReadAllAsync(ids[0]);
        Assert.Equal(["queued", "running", "succeeded"], echoed.Where(e => e.EventType == "status").Select(e => (string?)JsonNode.Parse(e.Data)!["status"]));
        Assert.Equal("kept 0", (string?)JsonNode.Parse(echoed[^1].Data)!["result"]);
        var listed = (await Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs?session_id={session}&page_size=100"))!;
        Assert.Equal(ids.Append(running).Order(), ((JsonArray)listed["jobs"]!).Select(j => (string)j!["job_id"]!).Order());
    }

    [Fact]
    public async Task CancelledJob_WhoseWorkStopsLate_LeavesMemory()
    {
        var scope = ProbeLedger.NewScope();
        var job = fixture.Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, JobIds.New()));
        await job.SubmitAsync(Specs.Probe(scope, lateResult: "returned 300 ms after the cancel"));
        await Eventually.Until(() => ProbeLedger.Runs(scope).Count == 1, "the probe to start");

        Assert.Equal(JobCommandStatus.Done, (await job.CancelAsync()).Status);
        await Eventually.Until(() => ProbeLedger.Runs(scope)[0].ReturnedAt is not null, "the work to return");

        // Ended, unwatched, no webhook: nothing keeps it, whichever of its end and its loop's end comes last.
        await Eventually.Until(() => !fixture.Cluster.TryGetGrainContext(job.GetGrainId(), out _), "the job to leave memory");
        Assert.Equal(JobStatus.Cancelled, (await job.GetStatusAsync())!.Status);
    }

    /// <summary>Waits until no silo of the cluster holds an activation of a job grain.</summary>
    private Task<int> UntilNoJobIsActiveAsync() => Eventually.Until(ActiveJobsAsync, active => active == 0, "no job grain to be active");

    /// <summary>Activations of job grains on every silo, as Orleans counts them.</summary>
    private async Task<int> ActiveJobsAsync() =>
        (await fixture.Client.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics())
            .Where(s => s.GrainType.StartsWith(typeof(JobGrain).FullName + ",", StringComparison.Ordinal)) // "type, assembly"
            .Sum(s => s.ActivationCount);
}
