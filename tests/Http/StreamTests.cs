using System.Net;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text.Json.Nodes;
using Praison.Orleans.Grains.Jobs;

namespace Praison.Orleans.Tests.Http;

/// <summary><c>GET /api/v1/runs/{id}/stream</c> (docs/api.md) through the gateway on Kestrel.</summary>
[Collection(JobsClusterCollection.Name)]
public sealed class StreamTests(JobsClusterFixture fixture)
{
    private HttpClient Http => fixture.Http;

    [Fact]
    public async Task TwoConcurrentStreams_SeeTheSameGapFreeSequenceEndingInResult()
    {
        var jobId = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "wait", recipe_config = new { seconds = 1, steps = 5 } });

        var streams = await Task.WhenAll(Http.ReadAllAsync(jobId), Http.ReadAllAsync(jobId));

        Assert.Equal(streams[0].Describe(), streams[1].Describe());
        var events = streams[0];
        AssertIdsIncrease(events);
        Assert.Equal(["status", "progress", "status"], events.Take(3).Select(e => e.EventType));
        Assert.Equal("queued", (string)Data(events[0])["status"]!);
        Assert.Equal(jobId, (string)Data(events[0])["job_id"]!);
        Assert.Equal("running", (string)Data(events[2])["status"]!);
        var percentages = events.Where(e => e.EventType == "progress").Select(e => (double)Data(e)["percentage"]!).ToList();
        Assert.Equal([0, 20, 40, 60, 80, 100], percentages);
        Assert.Equal("", (string?)Data(events[1])["step"]); // before any step: "" as PraisonAI sends, never null
        Assert.All(events.Where(e => e.EventType == "progress"), e => Assert.NotNull((string?)Data(e)["step"]));
        Assert.Equal(["status", "result"], events.TakeLast(2).Select(e => e.EventType));
        Assert.Equal("succeeded", (string)Data(events[^2])["status"]!);
        Assert.Equal("waited 1s", (string)Data(events[^1])["result"]!);
    }

    [Fact]
    public async Task FinishedJob_GetsTheWholeSequenceAndCloses()
    {
        var jobId = await Http.SubmitJobAsync(new { prompt = "done already", recipe_name = "echo" });
        await Http.UntilStatusAsync(jobId, "succeeded");

        var events = await Http.ReadAllAsync(jobId, timeout: TimeSpan.FromSeconds(5));

        Assert.Equal("status", events[0].EventType);
        Assert.Equal("result", events[^1].EventType);
        Assert.Equal("done already", (string)Data(events[^1])["result"]!);
        Assert.Contains(events, e => e.EventType == "status" && (string?)Data(e)["status"] == "succeeded");
        AssertIdsIncrease(events);
    }

    [Fact]
    public async Task Reconnect_WithLastEventId_NeitherRepeatsNorSkips()
    {
        var jobId = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "wait", recipe_config = new { seconds = 1.5, steps = 6 } });
        var firstPart = new List<SseItem<string>>();
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await foreach (var e in Http.StreamAsync(jobId, cancellationToken: cts.Token))
            {
                firstPart.Add(e);
                if (e.EventType == "progress" && (double)Data(e)["percentage"]! >= 50)
                {
                    break; // the client drops mid-run
                }
            }
        }

        var rest = await Http.ReadAllAsync(jobId, firstPart[^1].EventId);
        var whole = await Http.ReadAllAsync(jobId);

        // Read after the end, the whole stream may come from the record, which keeps the states coalesced.
        Assert.Equal(whole.Coalesced().Describe(), firstPart.Concat(rest).Coalesced().Describe());
        Assert.Equal(firstPart.Concat(rest).Select(e => e.EventId).Distinct().Count(), firstPart.Count + rest.Count);
        Assert.Equal("result", rest[^1].EventType);
        Assert.DoesNotContain(rest, e => firstPart.Any(f => f.EventId == e.EventId));
    }

    [Fact]
    public async Task CancelMidStream_EndsWithCancelled()
    {
        var jobId = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "wait", recipe_config = new { seconds = 60 } });
        var events = new List<SseItem<string>>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await foreach (var e in Http.StreamAsync(jobId, cancellationToken: cts.Token))
        {
            events.Add(e);
            if (e.EventType == "status" && (string?)Data(e)["status"] == "running")
            {
                (await Http.PostAsync($"/api/v1/runs/{jobId}/cancel", null)).EnsureSuccessStatusCode();
            }
        }

        Assert.Equal(["status", "cancelled"], events.TakeLast(2).Select(e => e.EventType));
        Assert.Equal("cancelled", (string)Data(events[^2])["status"]!);
        Assert.Equal("Job was cancelled", (string)Data(events[^1])["message"]!);
        AssertIdsIncrease(events);
    }

    [Fact]
    public async Task FailedJob_EndsWithError()
    {
        var jobId = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "wait", recipe_config = new { seconds = 0.1, steps = 1, fail = "it broke" } });

        var events = await Http.ReadAllAsync(jobId);

        Assert.Equal("error", events[^1].EventType);
        Assert.Equal("it broke", (string)Data(events[^1])["error"]!);
    }

    [Fact]
    public async Task IdleStream_GetsAHeartbeatWithoutAnId()
    {
        var scope = ProbeLedger.NewScope();
        var jobId = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "probe", recipe_config = new { scope } });
        SseItem<string>? heartbeat = null;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await foreach (var e in Http.StreamAsync(jobId, cancellationToken: cts.Token))
        {
            if (e.EventType == "heartbeat")
            {
                heartbeat = e;
                break;
            }
        }

        Assert.NotNull(heartbeat);
        Assert.Null(heartbeat.Value.EventId);
        Assert.True(DateTimeOffset.TryParse((string)Data(heartbeat.Value)["timestamp"]!, out _));
        await Http.PostAsync($"/api/v1/runs/{jobId}/cancel", null);
    }

    [Fact]
    public async Task GrainMovesMidStream_StreamFollowsTheNextAttemptWithoutRepeats()
    {
        var scope = ProbeLedger.NewScope();
        var jobId = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "probe", recipe_config = new { scope } });
        var events = new List<SseItem<string>>();
        var moved = false;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await foreach (var e in Http.StreamAsync(jobId, cancellationToken: cts.Token))
        {
            events.Add(e);
            if (!moved && e.EventType == "status" && (string?)Data(e)["status"] == "running")
            {
                moved = true;
                await Eventually.Until(() => ProbeLedger.Runs(scope).Count == 1, "the first attempt to start");
                await fixture.Cluster.DeactivateAsync(fixture.Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, jobId)));
                await Eventually.Until(() => ProbeLedger.Runs(scope).Count == 2, "the second attempt to start", TimeSpan.FromSeconds(40));
                (await Http.PostAsync($"/api/v1/runs/{jobId}/cancel", null)).EnsureSuccessStatusCode();
            }
        }

        AssertIdsIncrease(events);
        Assert.Equal("cancelled", events[^1].EventType);
        Assert.Equal(1, events.Count(e => e.EventType is "result" or "error" or "cancelled"));
        // The new activation restated the job in a new epoch of ids (high 32 bits).
        var epochs = events.Where(e => e.EventId is not null).Select(e => long.Parse(e.EventId!) >> 32).Distinct().ToList();
        Assert.True(epochs.Count >= 2, $"expected events from two activations, saw epochs {string.Join(",", epochs)}");
    }

    [Fact]
    public async Task ClientDisconnect_ReleasesTheWatcherOnTheSilo()
    {
        var scope = ProbeLedger.NewScope();
        var jobId = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "probe", recipe_config = new { scope } });
        var grainId = fixture.Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, jobId)).GetGrainId();
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await foreach (var e in Http.StreamAsync(jobId, cancellationToken: cts.Token))
            {
                if (e.EventType == "status" && (string?)Data(e)["status"] == "running")
                {
                    Assert.Equal(1, WatchersOf(grainId));
                    break;
                }
            }
        }

        await Eventually.Until(() => WatchersOf(grainId) == 0, "the silo to drop the watcher");
        await Http.PostAsync($"/api/v1/runs/{jobId}/cancel", null);
    }

    [Fact]
    public async Task UnknownJob_Is404Json_BadLastEventId_Is400()
    {
        var missing = await Http.GetAsync("/api/v1/runs/run_0123456789ab/stream");
        var jobId = await Http.SubmitJobAsync(new { prompt = "x", recipe_name = "echo" });
        using var bad = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/runs/{jobId}/stream");
        bad.Headers.Add("Last-Event-ID", "yesterday");

        var badResponse = await Http.SendAsync(bad);

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("Job not found: run_0123456789ab", (string)(await missing.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!);
        Assert.Equal(HttpStatusCode.BadRequest, badResponse.StatusCode);
    }

    [Fact]
    public async Task Stream_HasTheSpecHeaders()
    {
        var jobId = await Http.SubmitJobAsync(new { prompt = "x", recipe_name = "echo" });

        using var response = await Http.GetAsync($"/api/v1/runs/{jobId}/stream", HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("no-cache", response.Headers.CacheControl!.ToString());
        Assert.Equal("no", response.Headers.GetValues("X-Accel-Buffering").Single());
    }

    private int WatchersOf(GrainId grainId)
    {
        return fixture.Cluster.TryGetGrainContext(grainId, out var context) && context.GrainInstance is JobGrain grain
            ? grain.WatcherCount
            : 0;
    }



    private static JsonObject Data(SseItem<string> item) => JsonNode.Parse(item.Data)!.AsObject();

    private static void AssertIdsIncrease(IReadOnlyList<SseItem<string>> events)
    {
        var ids = events.Where(e => e.EventId is not null).Select(e => long.Parse(e.EventId!)).ToList();
        Assert.Equal(events.Count(e => e.EventType != "heartbeat"), ids.Count);
        for (var i = 1; i < ids.Count; i++)
        {
            Assert.True(ids[i] > ids[i - 1], $"event ids went from {ids[i - 1]} to {ids[i]}");
        }
    }
}
