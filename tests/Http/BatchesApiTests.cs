using System.Net;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json.Nodes;

namespace Praison.Orleans.Tests.Http;

/// <summary><c>/api/v1/batches</c> through the real gateway (docs/api.md "Batches").</summary>
[Collection(JobsClusterCollection.Name)]
public sealed class BatchesApiTests(JobsClusterFixture fixture)
{
    private HttpClient Http => fixture.Http;

    [Fact]
    public async Task ACreatedBatch_Is201WithItsJobs_WhichCarryItsId_AndItsThenJobGetsTheirResults()
    {
        using var response = await Http.PostAsJsonAsync("/api/v1/batches", new
        {
            jobs = new[] { Echo("first"), Echo("second"), Echo("third") },
            then = Echo("report"),
        });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        var batchId = (string)created["batch_id"]!;
        Assert.Matches("^bat_[0-9a-f]{12}$", batchId);
        Assert.Equal($"/api/v1/batches/{batchId}", response.Headers.Location!.AbsolutePath);
        Assert.False((bool)created["creating"]!);
        Assert.Equal(3, (int)created["total"]!);
        var jobIds = created["job_ids"]!.AsArray().Select(id => (string)id!).ToList();
        Assert.Equal(3, jobIds.Count);

        var then = (string)created["then_job_id"]!;
        var thenDone = await Http.UntilStatusAsync(then, "succeeded");
        Assert.Equal([batchId], thenDone["depends_on"]!.AsArray().Select(id => (string)id!));
        var result = (string)(await Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{then}/result"))!["result"]!;
        Assert.StartsWith($"Results of the jobs this one depends on:\n[{batchId}]\n", result);
        Assert.All(jobIds.Zip(["first", "second", "third"]), pair => Assert.Contains($"\"{pair.First}\":\"{pair.Second}\"", result));
        Assert.EndsWith("report", result);

        var batch = (await Http.GetFromJsonAsync<JsonObject>($"/api/v1/batches/{batchId}?page=2&page_size=2"))!;
        Assert.Equal("succeeded", (string)batch["status"]!);
        Assert.Equal(3, (int)batch["counts"]!["succeeded"]!);
        Assert.NotNull(batch["completed_at"]);
        var page = batch["jobs"]!.AsArray();
        Assert.Equal(jobIds[2], (string)Assert.Single(page)!["job_id"]!); // the jobs in the order given
        Assert.Equal(batchId, (string)page[0]!["batch_id"]!);

        var listed = (await Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs?batch_id={batchId}"))!;
        Assert.Equal(3, (int)listed["total"]!); // its jobs; the then job is not one of them
        Assert.Equal(jobIds.Order(), listed["jobs"]!.AsArray().Select(job => (string)job!["job_id"]!).Order());
    }

    [Fact]
    public async Task ABatchStream_SaysItsCountsAsTheyChange_ThenEndsWithOneEndEvent()
    {
        var (scope, gate) = (ProbeLedger.NewScope(), Guid.NewGuid().ToString("N"));
        var gated = new { prompt = "x", recipe_name = ProbeRecipe.RecipeName, recipe_config = JsonNode.Parse(ProbeLedger.Config(scope, gate: gate)) };
        var batchId = await CreateAsync(new { jobs = new[] { gated, gated, gated } });

        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var response = await Http.GetAsync($"/api/v1/batches/{batchId}/stream", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
        var events = new List<SseItem<string>>();
        await foreach (var item in SseParser.Create(body).EnumerateAsync(timeout.Token))
        {
            events.Add(item);
            if (events.Count == 1)
            {
                ProbeLedger.Open(gate); // after the first: the rest is what changed
            }
        }

        Assert.Equal("batch", events[0].EventType);
        Assert.Equal(batchId, (string)JsonNode.Parse(events[0].Data)!["batch_id"]!);
        var final = events.Last();
        Assert.Equal("end", final.EventType);
        Assert.Single(events, e => e.EventType == "end");
        var ended = JsonNode.Parse(final.Data)!;
        Assert.Equal("succeeded", (string)ended["status"]!);
        Assert.Equal(3, (int)ended["counts"]!["succeeded"]!);
        var succeededSoFar = events.Where(e => e.EventType != "heartbeat").Select(e => (int)JsonNode.Parse(e.Data)!["counts"]!["succeeded"]!).ToList();
        Assert.Equal(succeededSoFar.Order(), succeededSoFar); // counts only grow
    }

    [Fact]
    public async Task ARepeatWithItsIdempotencyKey_AnswersTheSameBatch_AndCreatesNothing()
    {
        var key = "nightly-" + Guid.NewGuid().ToString("N");
        var body = new { jobs = new[] { Echo("a"), Echo("b") } };

        var first = await PostWithKeyAsync(body, key);
        var repeat = await PostWithKeyAsync(body, key);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, repeat.StatusCode);
        var batchId = (string)(await first.Content.ReadFromJsonAsync<JsonObject>())!["batch_id"]!;
        Assert.Equal(batchId, (string)(await repeat.Content.ReadFromJsonAsync<JsonObject>())!["batch_id"]!);
        Assert.Equal(2, (int)(await Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs?batch_id={batchId}"))!["total"]!);
    }

    [Fact]
    public async Task CancelAndDelete_FollowTheBatchsState()
    {
        var forever = new { prompt = "x", recipe_name = ProbeRecipe.RecipeName, recipe_config = JsonNode.Parse(ProbeLedger.Config(ProbeLedger.NewScope())) };
        var batchId = await CreateAsync(new { jobs = new[] { forever, forever }, then = Echo("after") });

        using (var live = await Http.DeleteAsync($"/api/v1/batches/{batchId}"))
        {
            Assert.Equal(HttpStatusCode.Conflict, live.StatusCode);
        }

        using (var cancel = await Http.PostAsync($"/api/v1/batches/{batchId}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
            Assert.NotNull((await cancel.Content.ReadFromJsonAsync<JsonObject>())!["cancelled_at"]);
        }

        var ended = await Eventually.Until(
            () => Http.GetFromJsonAsync<JsonObject>($"/api/v1/batches/{batchId}"), b => b!["completed_at"] is not null, "the batch ended", TimeSpan.FromMinutes(2));
        Assert.Equal("cancelled", (string)ended!["status"]!);
        using (var again = await Http.PostAsync($"/api/v1/batches/{batchId}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        }

        await Http.UntilStatusAsync((string)ended["then_job_id"]!, "cancelled");
        using (var deleted = await Http.DeleteAsync($"/api/v1/batches/{batchId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using var gone = await Http.GetAsync($"/api/v1/batches/{batchId}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        using var thenGone = await Http.GetAsync($"/api/v1/runs/{(string)ended["then_job_id"]!}");
        Assert.Equal(HttpStatusCode.NotFound, thenGone.StatusCode);
    }

    [Theory]
    [InlineData("/api/v1/batches/bat_0123456789ab")]
    [InlineData("/api/v1/batches/not-a-batch")]
    [InlineData("/api/v1/batches/run_0123456789ab/stream")]
    public async Task AnUnknownOrMalformedBatch_Is404ProblemJson(string path)
    {
        using var response = await Http.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("Batch not found: ", (string)(await response.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!);
    }

    [Theory]
    [InlineData("""{"jobs": []}""", "jobs")]
    [InlineData("""{"jobs": {"prompt": "x"}}""", "jobs")]
    [InlineData("""{"then": {"prompt": "x"}}""", "jobs")]
    [InlineData("""{"jobs": [{"prompt": "x"}, {"recipe_name": "echo"}]}""", "jobs[1].prompt")]
    [InlineData("""{"jobs": [7]}""", "jobs[0]")]
    [InlineData("""{"jobs": [{"prompt": "x", "idempotency_key": "k"}]}""", "jobs[0].idempotency_key")]
    [InlineData("""{"jobs": [{"prompt": "x"}], "then": {"prompt": "x", "depends_on": ["run_0123456789ab"]}}""", "then.depends_on")]
    [InlineData("""{"jobs": [{"prompt": "x", "recipe_name": "no-such-recipe"}]}""", "jobs[0].recipe_name")]
    public async Task AMalformedBatch_Is422NamingTheField_AndCreatesNothing(string body, string field)
    {
        using var response = await Http.PostAsync("/api/v1/batches", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True(problem["errors"]!.AsObject().ContainsKey(field), problem.ToJsonString());
    }

    [Fact]
    public async Task AJobThatDependsOnItsOwnBatch_Is422_AndCreatesNothing()
    {
        var key = "self-" + Guid.NewGuid().ToString("N");
        var ownId = await KeyedBatchIdAsync(key); // a key names its batch: the id can be known before the batch exists

        using var response = await PostWithKeyAsync(new { jobs = new[] { new { prompt = "x", recipe_name = "echo", depends_on = new[] { ownId } } } }, key);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("its own batch", (string)(await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["jobs[0].depends_on"]![0]!);
        using var gone = await Http.GetAsync($"/api/v1/batches/{ownId}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task MoreWebhookTargetsThanABatchMayName_Is422NamingTheFirstPastThem()
    {
        var jobs = Enumerable.Range(0, 11).Select(i => new { prompt = "x", webhook_url = $"https://hooks{i}.example.com/done" });

        using var response = await Http.PostAsJsonAsync("/api/v1/batches", new { jobs });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("A batch's jobs may name at most 10 different webhook_url targets",
            (string)(await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["jobs[10].webhook_url"]![0]!);
    }

    [Fact]
    public async Task MoreJobsThanABatchHolds_Is422()
    {
        var jobs = Enumerable.Range(0, BatchSpec.MaxJobs + 1).Select(_ => new { prompt = "x" });

        using var response = await Http.PostAsJsonAsync("/api/v1/batches", new { jobs });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal($"Must be an array of 1–{BatchSpec.MaxJobs} submit bodies", (string)(await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["jobs"]![0]!);
    }

    [Fact]
    public async Task ABatchBodyPastTheSubmitLimit_IsTakenUpToTheBatchLimit()
    {
        var prompt = new string('p', 4000);
        var jobs = Enumerable.Range(0, 400).Select(_ => new { prompt, recipe_name = "echo" }).ToArray(); // about 1.6 MB

        using var response = await Http.PostAsJsonAsync("/api/v1/batches", new { jobs });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var submit = await Http.PostAsJsonAsync("/api/v1/runs", new { prompt = new string('p', 1100 * 1024) });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, submit.StatusCode); // a submit keeps its own limit
    }

    [Fact]
    public async Task ABatchThatDoesNotFitTheTenantsLiveJobs_Is429_AndCreatesNothing()
    {
        var tenant = "batch-" + Guid.NewGuid().ToString("N")[..8];
        using var http = await fixture.StartGatewayAsync(
            "--Api:MaxLiveJobsPerTenant=3", $"--Auth:Tenants:{tenant}:KeySha256:0={Convert.ToHexString(Praison.Orleans.Gateway.Auth.ApiKeyRing.Digest("batch-quota-key"))}");
        http.DefaultRequestHeaders.Add("X-API-Key", "batch-quota-key");

        using var refused = await http.PostAsJsonAsync("/api/v1/batches", new { jobs = new[] { Echo("a"), Echo("b"), Echo("c") }, then = Echo("d") });
        using var fits = await http.PostAsJsonAsync("/api/v1/batches", new { jobs = new[] { Echo("a"), Echo("b") }, then = Echo("c") });

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("Api:MaxLiveJobsPerTenant", (string)(await refused.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!);
        Assert.Equal(HttpStatusCode.Created, fits.StatusCode);
        Assert.Equal(3, (int)(await http.GetFromJsonAsync<JsonObject>("/api/v1/runs"))!["total"]!); // the refused batch made none
    }

    private static object Echo(string prompt) => new { prompt, recipe_name = "echo" };

    /// <summary>The id a batch made with <paramref name="key"/> gets: learnt by making one with it, then deleting it (which frees the key).</summary>
    private async Task<string> KeyedBatchIdAsync(string key)
    {
        using var made = await PostWithKeyAsync(new { jobs = new[] { Echo("x") } }, key);
        var id = (string)(await made.Content.ReadFromJsonAsync<JsonObject>())!["batch_id"]!;
        await Eventually.Until(() => Http.GetFromJsonAsync<JsonObject>($"/api/v1/batches/{id}"), b => b!["completed_at"] is not null, "the probe batch ended");
        using var deleted = await Http.DeleteAsync($"/api/v1/batches/{id}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        return id;
    }

    private async Task<string> CreateAsync(object body)
    {
        using var response = await Http.PostAsJsonAsync("/api/v1/batches", body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (string)(await response.Content.ReadFromJsonAsync<JsonObject>())!["batch_id"]!;
    }

    private async Task<HttpResponseMessage> PostWithKeyAsync(object body, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/batches") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key);
        return await Http.SendAsync(request);
    }
}
