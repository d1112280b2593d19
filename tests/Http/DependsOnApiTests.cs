using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Praison.Orleans.Tests.Http;

/// <summary><c>depends_on</c> and <c>run_if</c> through the real gateway (docs/api.md: Workflows).</summary>
[Collection(JobsClusterCollection.Name)]
public sealed class DependsOnApiTests(JobsClusterFixture fixture)
{
    private HttpClient Http => fixture.Http;

    [Fact]
    public async Task AWaitingChild_ShowsWhatItDependsOnAndWaitsFor_ThenRuns()
    {
        var gate = Guid.NewGuid().ToString("N");
        var (scope, done) = (ProbeLedger.NewScope(), await Http.SubmitJobAsync(new { prompt = "x", recipe_name = "echo" }));
        await Http.UntilStatusAsync(done, "succeeded");
        var live = await Http.SubmitJobAsync(Gated(scope, gate));
        var child = await Http.SubmitJobAsync(new { prompt = "x", recipe_name = "echo", depends_on = new[] { done, live, done }, run_if = "finished" });

        // Waiting for both until the finished parent's end has reached it (soon; later on a loaded machine).
        var waiting = await Eventually.Until(
            () => Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{child}"),
            s => (string?)s!["waiting"] == "depends_on" && s["waiting_for"] is JsonArray { Count: 1 }, "the child waiting for the live parent only", TimeSpan.FromMinutes(1));
        Assert.Equal("queued", (string)waiting!["status"]!);
        Assert.Equal([done, live], waiting["depends_on"]!.AsArray().Select(id => (string)id!)); // a repeat counts once
        Assert.Equal("finished", (string)waiting["run_if"]!);
        Assert.Equal([live], waiting["waiting_for"]!.AsArray().Select(id => (string)id!));

        ProbeLedger.Open(gate);
        var ended = await Http.UntilStatusAsync(child, "succeeded");
        Assert.False(ended.ContainsKey("waiting_for"));
        Assert.False(ended.ContainsKey("waiting"));
    }

    [Fact]
    public async Task AChildCancelledByItsParent_SaysWhyInItsStatusAndStream()
    {
        var parent = await Http.SubmitJobAsync(new { prompt = "x", recipe_name = "probe", recipe_config = JsonNode.Parse(ProbeLedger.Config(ProbeLedger.NewScope())) });
        var child = await Http.SubmitJobAsync(new { prompt = "x", recipe_name = "echo", depends_on = new[] { parent } });
        using var cancel = await Http.PostAsync($"/api/v1/runs/{parent}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);

        var ended = await Http.UntilStatusAsync(child, "cancelled");
        Assert.Equal($"A job it depends on did not succeed (run_if: succeeded): {parent} cancelled", (string)ended["error"]!);
        var events = await Http.ReadAllAsync(child); // read back from its stored history: a finished job is released at once
        Assert.Equal("status", events[0].EventType);
        Assert.Contains("queued", events[0].Data); // the history keeps what watchers saw before the end
        var final = events.Last();
        Assert.Equal("cancelled", final.EventType);
        Assert.Contains(parent, final.Data);
    }

    [Fact]
    public async Task UnknownParents_Are422NamingThem_AndCreateNothing()
    {
        var (unknown, session) = (JobIds.New(), "deps-" + Guid.NewGuid().ToString("N"));

        using var response = await Http.PostAsJsonAsync("/api/v1/runs", new { prompt = "x", recipe_name = "echo", session_id = session, depends_on = new[] { unknown } });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal($"No such job: {unknown}", (string)problem!["errors"]!["depends_on"]![0]!);
        Assert.Equal(0, (int)(await Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs?session_id={session}"))!["total"]!);
    }

    [Theory]
    [InlineData("""{"prompt": "x", "depends_on": "run_0123456789ab"}""", "depends_on")]
    [InlineData("""{"prompt": "x", "depends_on": [7]}""", "depends_on")]
    [InlineData("""{"prompt": "x", "depends_on": ["job-1"]}""", "depends_on")]
    [InlineData("""{"prompt": "x", "run_if": "finished"}""", "run_if")]
    [InlineData("""{"prompt": "x", "depends_on": [], "run_if": "finished"}""", "run_if")]
    [InlineData("""{"prompt": "x", "depends_on": ["run_0123456789ab"], "run_if": "always"}""", "run_if")]
    public async Task MalformedDependencies_Are422NamingTheField(string body, string field)
    {
        using var response = await Http.PostAsync("/api/v1/runs", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.True(problem!["errors"]!.AsObject().ContainsKey(field), problem.ToJsonString());
    }

    [Fact]
    public async Task MoreParentsThanAllowed_Is422()
    {
        var ids = Enumerable.Range(0, JobSpec.MaxDependsOn + 1).Select(_ => JobIds.New()).ToArray();

        using var response = await Http.PostAsJsonAsync("/api/v1/runs", new { prompt = "x", depends_on = ids });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal($"Must name at most {JobSpec.MaxDependsOn} jobs", (string)(await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["depends_on"]![0]!);
    }

    private static object Gated(string scope, string gate) =>
        new { prompt = "x", recipe_name = ProbeRecipe.RecipeName, recipe_config = JsonNode.Parse(ProbeLedger.Config(scope, gate: gate)) };
}
