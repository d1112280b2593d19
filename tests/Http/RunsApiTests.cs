using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Praison.Orleans.Tests.Http;

/// <summary>The API (docs/api.md) through the real gateway pipeline on Kestrel, against the 3-silo cluster.</summary>
[Collection(JobsClusterCollection.Name)]
public sealed partial class RunsApiTests(JobsClusterFixture fixture)
{
    private HttpClient Http => fixture.Http;

    [Fact]
    public async Task Submit_Returns202WithLocationRetryAfterAndUrls()
    {
        var response = await Http.PostAsJsonAsync("/api/v1/runs", new { prompt = "hi", recipe_name = "echo" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await Json(response);
        var jobId = (string)body["job_id"]!;
        Assert.Matches("^run_[0-9a-f]{12}$", jobId);
        Assert.Equal("queued", (string)body["status"]!);
        var pollUrl = new Uri(Http.BaseAddress!, $"/api/v1/runs/{jobId}").ToString();
        Assert.Equal(pollUrl, (string)body["poll_url"]!);
        Assert.Equal(pollUrl + "/stream", (string)body["stream_url"]!);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", (string)body["created_at"]!);
        Assert.Equal(pollUrl, response.Headers.Location!.ToString());
        Assert.Equal(TimeSpan.FromSeconds(2), response.Headers.RetryAfter!.Delta);
    }

    [Fact]
    public async Task EchoJob_StatusAndResult_CarryEverySpecField()
    {
        var jobId = await Http.SubmitJobAsync(new { prompt = "round trip", recipe_name = "echo", session_id = "s-1", priority = -7 });

        var status = await Http.UntilStatusAsync(jobId, "succeeded");

        foreach (var field in new[] { "job_id", "status", "progress", "created_at", "started_at", "completed_at",
                     "agent_id", "run_id", "session_id", "error", "retry_after", "attempt", "priority" })
        {
            Assert.True(status.ContainsKey(field), $"status body lacks {field}");
        }

        Assert.Equal("s-1", (string)status["session_id"]!);
        Assert.Equal("recipe:echo", (string)status["agent_id"]!);
        Assert.Null(status["retry_after"]);
        Assert.Equal(1, (int)status["attempt"]!);
        Assert.Equal(-7, (int)status["priority"]!);
        var progress = status["progress"]!.AsObject();
        Assert.Equal(100, (double)progress["percentage"]!);
        Assert.True(progress.ContainsKey("current_step") && progress.ContainsKey("steps_total"));

        var result = await Json(await Http.GetAsync($"/api/v1/runs/{jobId}/result"));
        Assert.Equal("round trip", (string)result["result"]!);
        Assert.Equal("succeeded", (string)result["status"]!);
        Assert.True(result.ContainsKey("result_url") && result["result_url"] is null);
        Assert.True(result.ContainsKey("metrics") && result["metrics"] is null, "metrics is null for a job that reports none, as PraisonAI");
        Assert.True((double)result["duration_seconds"]! >= 0);
        Assert.Null(result["error"]);
    }

    [Fact]
    public async Task RetryAfter_Is5WhileRunning()
    {
        var jobId = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "probe", recipe_config = new { scope = ProbeLedger.NewScope() } });

        var status = await Http.UntilStatusAsync(jobId, "running");

        Assert.Equal(5, (int)status["retry_after"]!);
        await Http.PostAsync($"/api/v1/runs/{jobId}/cancel", null);
    }

    [Fact]
    public async Task Result_WhileRunning_Is409WithSpecDetail()
    {
        var jobId = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "probe", recipe_config = new { scope = ProbeLedger.NewScope() } });
        await Http.UntilStatusAsync(jobId, "running");

        var response = await Http.GetAsync($"/api/v1/runs/{jobId}/result");

        await AssertProblem(response, HttpStatusCode.Conflict, "Job is not complete. Current status: running");
        await Http.PostAsync($"/api/v1/runs/{jobId}/cancel", null);
    }

    [Fact]
    public async Task Cancel_RunningJob_Returns200WithCancelledAt_ThenAgain400()
    {
        var jobId = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "probe", recipe_config = new { scope = ProbeLedger.NewScope() } });
        await Http.UntilStatusAsync(jobId, "running");

        var response = await Http.PostAsync($"/api/v1/runs/{jobId}/cancel", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await Json(response);
        Assert.Equal(jobId, (string)body["job_id"]!);
        Assert.Equal("cancelled", (string)body["status"]!);
        Assert.Equal((string)body["cancelled_at"]!, (string)body["completed_at"]!);
        Assert.Null(body["retry_after"]);
        var again = await Http.PostAsync($"/api/v1/runs/{jobId}/cancel", null);
        await AssertProblem(again, HttpStatusCode.BadRequest, "Job already completed (status: cancelled)");
        var status = await Json(await Http.GetAsync($"/api/v1/runs/{jobId}"));
        Assert.Equal("cancelled", (string)status["status"]!);
    }

    [Fact]
    public async Task Cancel_SucceededJob_Is400AndJobStaysSucceeded()
    {
        var jobId = await Http.SubmitJobAsync(new { prompt = "x", recipe_name = "echo" });
        await Http.UntilStatusAsync(jobId, "succeeded");

        var response = await Http.PostAsync($"/api/v1/runs/{jobId}/cancel", null);

        await AssertProblem(response, HttpStatusCode.BadRequest, "Job already completed (status: succeeded)");
        Assert.Equal("succeeded", (string)(await Json(await Http.GetAsync($"/api/v1/runs/{jobId}")))["status"]!);
    }

    [Fact]
    public async Task Delete_TerminalJob_204ThenGone_RunningJob_409()
    {
        var running = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "probe", recipe_config = new { scope = ProbeLedger.NewScope() } });
        var done = await Http.SubmitJobAsync(new { prompt = "x", recipe_name = "echo" });
        await Http.UntilStatusAsync(done, "succeeded");

        var refused = await Http.DeleteAsync($"/api/v1/runs/{running}");
        var deleted = await Http.DeleteAsync($"/api/v1/runs/{done}");

        await AssertProblem(refused, HttpStatusCode.Conflict, "Cannot delete a running job. Cancel it first.");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Empty(await deleted.Content.ReadAsByteArrayAsync());
        await AssertProblem(await Http.GetAsync($"/api/v1/runs/{done}"), HttpStatusCode.NotFound, $"Job not found: {done}");
        await AssertProblem(await Http.DeleteAsync($"/api/v1/runs/{done}"), HttpStatusCode.NotFound, $"Job not found: {done}");
        Assert.Contains(await StatusOf(running), new[] { "queued", "running" });
        await Http.PostAsync($"/api/v1/runs/{running}/cancel", null);
    }

    [Theory]
    [InlineData("GET", "/api/v1/runs/{0}")]
    [InlineData("GET", "/api/v1/runs/{0}/result")]
    [InlineData("POST", "/api/v1/runs/{0}/cancel")]
    [InlineData("DELETE", "/api/v1/runs/{0}")]
    public async Task UnknownOrMalformedId_Is404WithSpecDetail(string method, string template)
    {
        foreach (var id in new[] { "run_0123456789ab", "not-a-run-id", "run_ABCDEF012345", new string('x', 2000) })
        {
            var response = await Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), string.Format(template, id)));
            await AssertProblem(response, HttpStatusCode.NotFound, $"Job not found: {id}");
        }
    }

    [Fact]
    public async Task Health_IsPublicAndCountsEverySilo()
    {
        var response = await Http.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await Json(response);
        Assert.Equal("healthy", (string)body["status"]!);
        Assert.Equal("memory", (string)body["store"]!);
        Assert.Equal(JobsClusterFixture.Silos, (int)body["cluster"]!["silos"]!);
        var executor = body["executor_stats"]!;
        Assert.Equal(JobsClusterFixture.Silos * JobsClusterFixture.SlotsPerSilo, (int)executor["max_concurrent"]!);
        Assert.Equal(3600, (int)executor["default_timeout"]!);
        Assert.False((bool)executor["shutdown"]!);
        Assert.True((int)executor["running_jobs"]! >= 0);
    }

    [Fact]
    public async Task Health_RunningJobs_CountsJobsHoldingSlots()
    {
        var scope = ProbeLedger.NewScope();
        var jobId = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "probe", recipe_config = new { scope } });
        await Http.UntilStatusAsync(jobId, "running");

        var running = (int)(await Json(await Http.GetAsync("/health")))["executor_stats"]!["running_jobs"]!;

        Assert.True(running >= 1, $"running_jobs was {running}");
        await Http.PostAsync($"/api/v1/runs/{jobId}/cancel", null);
        await Eventually.Until(
            async () => (int)(await Json(await Http.GetAsync("/health")))["executor_stats"]!["running_jobs"]!,
            n => n == 0,
            "the slot to be released");
    }

    [Fact]
    public async Task UnknownRoute_IsProblem404()
    {
        var response = await Http.GetAsync("/api/v1/nothing-here");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }


    private async Task<string> StatusOf(string jobId) =>
        (string)(await Json(await Http.GetAsync($"/api/v1/runs/{jobId}")))["status"]!;


    private Task<HttpResponseMessage> PostRaw(string body) =>
        Http.PostAsync("/api/v1/runs", new StringContent(body, Encoding.UTF8, "application/json"));

    private static async Task<JsonObject> Json(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    private static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status, string detail)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = await Json(response);
        Assert.Equal((int)status, (int)problem["status"]!);
        Assert.Equal(detail, (string)problem["detail"]!);
    }
}
