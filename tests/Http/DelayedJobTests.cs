using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Praison.Orleans.Tests.Http;

/// <summary>Delayed jobs: <c>run_at</c> or <c>delay_seconds</c> on submit; queued until then, cancellable and deletable before.</summary>
[Collection(JobsClusterCollection.Name)]
public sealed class DelayedJobTests(JobsClusterFixture fixture)
{
    private HttpClient Http => fixture.Http;

    [Fact]
    public async Task DelayedJob_IsQueuedWithItsTime_AndStartsNoEarlier()
    {
        var submitted = await SubmitAsync(new { prompt = "later", recipe_name = "echo", delay_seconds = 2 });
        var scheduledFor = DateTimeOffset.Parse((string)submitted["scheduled_for"]!);
        var jobId = (string)submitted["job_id"]!;

        var queued = (await Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{jobId}"))!;
        var done = await Http.UntilStatusAsync(jobId, "succeeded");

        Assert.Equal("queued", (string?)submitted["status"]);
        Assert.InRange(scheduledFor, DateTimeOffset.UtcNow.AddSeconds(-60), DateTimeOffset.UtcNow.AddSeconds(60));
        Assert.Equal(scheduledFor, DateTimeOffset.Parse((string)queued["scheduled_for"]!));
        Assert.True(DateTimeOffset.Parse((string)done["started_at"]!) >= scheduledFor, "it started before its time");
        Assert.Equal(scheduledFor, DateTimeOffset.Parse((string)done["scheduled_for"]!));
    }

    [Fact]
    public async Task RunAt_InThePast_RunsAtOnce_AndANormalJobHasNoScheduledFor()
    {
        var past = await SubmitAsync(new { prompt = "now", recipe_name = "echo", run_at = "2020-01-01T00:00:00Z" });
        var plain = await SubmitAsync(new { prompt = "plain", recipe_name = "echo" });

        await Http.UntilStatusAsync((string)past["job_id"]!, "succeeded");
        var done = await Http.UntilStatusAsync((string)plain["job_id"]!, "succeeded");

        Assert.False(past.ContainsKey("scheduled_for"));
        Assert.False(done.ContainsKey("scheduled_for"));
    }

    [Fact]
    public async Task CancelledBeforeItsTime_NeverRuns()
    {
        var scope = ProbeLedger.NewScope();
        var submitted = await SubmitAsync(new { prompt = "", recipe_name = ProbeRecipe.RecipeName, recipe_config = new { scope }, delay_seconds = 1 });
        var jobId = (string)submitted["job_id"]!;

        using var cancel = await Http.PostAsync($"/api/v1/runs/{jobId}/cancel", null);
        await PastAsync(DateTimeOffset.Parse((string)submitted["scheduled_for"]!));

        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal("cancelled", (string?)(await Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{jobId}"))!["status"]);
        Assert.Empty(ProbeLedger.Runs(scope));
    }

    [Fact]
    public async Task DeletedBeforeItsTime_IsGoneAndNeverRuns_WhileAQueuedJobWithoutATimeCannotBeDeleted()
    {
        var scope = ProbeLedger.NewScope();
        var submitted = await SubmitAsync(new { prompt = "", recipe_name = ProbeRecipe.RecipeName, recipe_config = new { scope }, delay_seconds = 1 });
        var jobId = (string)submitted["job_id"]!;

        using var delete = await Http.DeleteAsync($"/api/v1/runs/{jobId}");
        await PastAsync(DateTimeOffset.Parse((string)submitted["scheduled_for"]!));

        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync($"/api/v1/runs/{jobId}")).StatusCode);
        Assert.Empty(ProbeLedger.Runs(scope));
        var running = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "wait", recipe_config = new { seconds = 30 } });
        using var refused = await Http.DeleteAsync($"/api/v1/runs/{running}");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        await Http.PostAsync($"/api/v1/runs/{running}/cancel", null);
    }

    [Theory]
    [InlineData("""{"prompt":"x","recipe_name":"echo","run_at":"2030-01-01T00:00:00Z","delay_seconds":5}""", "run_at")]
    [InlineData("""{"prompt":"x","recipe_name":"echo","run_at":"tomorrow"}""", "run_at")]
    [InlineData("""{"prompt":"x","recipe_name":"echo","run_at":"2030-01-01T00:00:00"}""", "run_at")]
    [InlineData("""{"prompt":"x","recipe_name":"echo","run_at":5}""", "run_at")]
    [InlineData("""{"prompt":"x","recipe_name":"echo","delay_seconds":-1}""", "delay_seconds")]
    [InlineData("""{"prompt":"x","recipe_name":"echo","delay_seconds":"soon"}""", "delay_seconds")]
    [InlineData("""{"prompt":"x","recipe_name":"echo","delay_seconds":31622400}""", "delay_seconds")]
    public async Task BadSchedule_Is422NamingTheField(string body, string field)
    {
        using var response = await Http.PostAsync("/api/v1/runs", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True(((JsonObject)problem["errors"]!).ContainsKey(field), problem.ToJsonString());
    }

    [Fact]
    public async Task RunAt_MoreThanAYearAhead_Is422()
    {
        var tooFar = DateTimeOffset.UtcNow.AddDays(400).ToString("yyyy-MM-ddTHH:mm:ssZ");
        using var response = await Http.PostAsJsonAsync("/api/v1/runs", new { prompt = "x", recipe_name = "echo", run_at = tooFar });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("365 days", await response.Content.ReadAsStringAsync());
    }

    private async Task<JsonObject> SubmitAsync(object body)
    {
        using var response = await Http.PostAsJsonAsync("/api/v1/runs", body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    /// <summary>Waits (bounded) until the clock is past <paramref name="time"/> by a second: the moment a job would have started.</summary>
    private static Task PastAsync(DateTimeOffset time) =>
        Eventually.Until(() => DateTimeOffset.UtcNow > time.AddSeconds(1), $"the clock to pass {time:O}", TimeSpan.FromSeconds(30));
}
