using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Praison.Orleans.Tests.Http;

/// <summary>
/// The OpenAPI document is built from the real endpoints and says what they really do: every route,
/// and for each body the properties real responses carry.
/// </summary>
[Collection(JobsClusterCollection.Name)]
public sealed class OpenApiTests(JobsClusterFixture fixture)
{
    private HttpClient Http => fixture.Http;

    [Theory]
    [InlineData("/openapi.json")]
    [InlineData("/openapi/v1.json")]
    public async Task Document_NamesEveryRouteAndMethod(string path)
    {
        var document = await Http.GetFromJsonAsync<JsonObject>(path);

        var routes = document!["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().Where(m => m.Key is "get" or "post" or "delete" or "head" or "patch").Select(m => $"{m.Key.ToUpperInvariant()} {p.Key}"))
            .Order(StringComparer.Ordinal);
        Assert.Equal(
            new[]
            {
                "DELETE /api/v1/runs/{jobId}", "GET /api/v1/runs", "GET /api/v1/runs/{jobId}", "GET /api/v1/runs/{jobId}/result",
                "GET /api/v1/runs/{jobId}/stream", "GET /health", "GET /stats", "HEAD /health", "POST /api/v1/runs",
                "POST /api/v1/runs/{jobId}/cancel", "GET /api/v1/concurrency-keys",
                "DELETE /api/v1/schedules/{scheduleId}", "GET /api/v1/schedules", "GET /api/v1/schedules/{scheduleId}",
                "PATCH /api/v1/schedules/{scheduleId}", "POST /api/v1/schedules", "POST /api/v1/schedules/{scheduleId}/pause",
                "POST /api/v1/schedules/{scheduleId}/resume", "POST /api/v1/schedules/{scheduleId}/trigger",
                "POST /api/v1/batches", "GET /api/v1/batches/{batchId}", "GET /api/v1/batches/{batchId}/stream",
                "POST /api/v1/batches/{batchId}/cancel", "DELETE /api/v1/batches/{batchId}",
            }.Order(StringComparer.Ordinal),
            routes);
        Assert.Contains("bearer", document["components"]!["securitySchemes"]!.AsObject().Select(s => s.Key));
    }

    [Fact]
    public async Task Document_DescribesTheSubmitBodyAndHeaders_AndEveryErrorAsProblemJson()
    {
        var document = (await Http.GetFromJsonAsync<JsonObject>("/openapi.json"))!;
        var submit = document["paths"]!["/api/v1/runs"]!["post"]!;

        var body = Resolve(document, submit["requestBody"]!["content"]!["application/json"]!["schema"]!);
        Assert.Equal(
            ["agent_file", "agent_yaml", "concurrency_key", "concurrency_limit", "config", "delay_seconds", "depends_on", "framework", "idempotency_key", "max_attempts", "priority", "prompt", "recipe_config",
                "recipe_name", "run_at", "run_if", "session_id", "singleton_key", "singleton_seconds", "timeout", "webhook_url"],
            Properties(body));
        Assert.Contains("Idempotency-Key", submit["parameters"]!.AsArray().Select(p => (string)p!["name"]!));
        Assert.Contains("Last-Event-ID", document["paths"]!["/api/v1/runs/{jobId}/stream"]!["get"]!["parameters"]!.AsArray().Select(p => (string)p!["name"]!));
        foreach (var status in new[] { "400", "413", "422", "429", "503" })
        {
            Assert.True(submit["responses"]![status]!["content"]!.AsObject().ContainsKey("application/problem+json"), $"{status} is problem JSON");
        }
    }

    [Fact]
    public async Task Document_Schemas_HaveThePropertiesRealResponsesCarry()
    {
        var document = (await Http.GetFromJsonAsync<JsonObject>("/openapi.json"))!;
        var submitted = await (await Http.PostAsJsonAsync("/api/v1/runs", new { prompt = "described", recipe_name = "echo" }))
            .Content.ReadFromJsonAsync<JsonObject>();
        var jobId = (string)submitted!["job_id"]!;
        await Http.UntilStatusAsync(jobId, "succeeded");

        AssertMatches(document, "/api/v1/runs", "post", "202", submitted);
        AssertMatches(document, "/api/v1/runs/{jobId}", "get", "200", await Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{jobId}"));
        AssertMatches(document, "/api/v1/runs/{jobId}/result", "get", "200", await Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{jobId}/result"));
        AssertMatches(document, "/api/v1/runs", "get", "200", await Http.GetFromJsonAsync<JsonObject>("/api/v1/runs?page_size=1"));
        AssertMatches(document, "/stats", "get", "200", await Http.GetFromJsonAsync<JsonObject>("/stats"));
        AssertMatches(document, "/health", "get", "200", await Http.GetFromJsonAsync<JsonObject>("/health"));
        AssertMatches(document, "/api/v1/concurrency-keys", "get", "200", await Http.GetFromJsonAsync<JsonObject>("/api/v1/concurrency-keys"));
        var scheduleId = "openapi-" + Guid.NewGuid().ToString("N")[..8];
        var schedule = await (await Http.PostAsJsonAsync("/api/v1/schedules", new { schedule_id = scheduleId, cron = "0 2 * * *", job = new { prompt = "x" } }))
            .Content.ReadFromJsonAsync<JsonObject>();
        AssertMatches(document, "/api/v1/schedules", "post", "201", schedule);
        AssertMatches(document, "/api/v1/schedules/{scheduleId}", "get", "200", await Http.GetFromJsonAsync<JsonObject>($"/api/v1/schedules/{scheduleId}"));
        AssertMatches(document, "/api/v1/schedules", "get", "200", await Http.GetFromJsonAsync<JsonObject>("/api/v1/schedules?page_size=1"));
        AssertMatches(document, "/api/v1/schedules/{scheduleId}/trigger", "post", "202",
            await (await Http.PostAsync($"/api/v1/schedules/{scheduleId}/trigger", null)).Content.ReadFromJsonAsync<JsonObject>());
        await Http.DeleteAsync($"/api/v1/schedules/{scheduleId}");
        var batch = await (await Http.PostAsJsonAsync("/api/v1/batches", new { jobs = new[] { new { prompt = "x", recipe_name = "echo" } }, then = new { prompt = "y", recipe_name = "echo" } }))
            .Content.ReadFromJsonAsync<JsonObject>();
        AssertMatches(document, "/api/v1/batches", "post", "201", batch);
        await Http.UntilStatusAsync((string)batch!["then_job_id"]!, "succeeded");
        AssertMatches(document, "/api/v1/batches/{batchId}", "get", "200", await Http.GetFromJsonAsync<JsonObject>($"/api/v1/batches/{(string)batch["batch_id"]!}"));
        var missing = await (await Http.GetAsync("/api/v1/runs/run_000000000000")).Content.ReadFromJsonAsync<JsonObject>();
        Assert.Contains("detail", Properties(Resolve(document, Schema(document, "/api/v1/runs/{jobId}", "get", "404", "application/problem+json"))));
        Assert.NotNull(missing!["detail"]);
    }

    [Fact]
    public async Task Docs_AreAnInteractivePageOnTheDocument_ServedWithItsScriptsFromHere()
    {
        var page = await Http.GetAsync("/docs/");
        var script = await Http.GetAsync("/docs/scalar.js");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        // Scalar resolves the source against the app's base path (the page's path less /docs/): /openapi.json.
        Assert.Contains("\"url\":\"openapi.json\"", await page.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, script.StatusCode); // no CDN: the page works offline
    }

    [Fact]
    public async Task WithKeys_TheDocumentNeedsAKey_AsTheApiDoes()
    {
        var anonymous = await fixture.AuthHttp.GetAsync("/openapi.json");
        using var keyed = new HttpRequestMessage(HttpMethod.Get, "/openapi.json");
        keyed.Headers.Add("X-API-Key", JobsClusterFixture.AcmeKey);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fixture.AuthHttp.SendAsync(keyed)).StatusCode);
    }

    /// <summary>The documented body of a response has exactly the properties the real one carries (null ones included).</summary>
    private static void AssertMatches(JsonObject document, string path, string method, string status, JsonObject? real)
    {
        var documented = Properties(Resolve(document, Schema(document, path, method, status, "application/json")));
        var actual = real!.Select(p => p.Key).Order(StringComparer.Ordinal).ToList();
        Assert.True(actual.All(documented.Contains), $"{method} {path} {status}: real {string.Join(",", actual)} vs documented {string.Join(",", documented)}");
        Assert.True(documented.All(p => actual.Contains(p) || OmittedWhenNull(p)), $"{method} {path} {status}: documented {string.Join(",", documented)} vs real {string.Join(",", actual)}");
    }

    /// <summary>
    /// Members written only when set (the job was cancelled, it has a webhook, it was delayed, it names a
    /// concurrency key, it waits, it has parents, it is in a batch; a batch's then job, its ids on create, its page on read;
    /// a schedule's batch).
    /// </summary>
    private static bool OmittedWhenNull(string property) =>
        property is "cancelled_at" or "webhook" or "scheduled_for" or "schedule_id" or "max_attempts" or "concurrency_key" or "concurrency_limit" or "waiting"
            or "depends_on" or "run_if" or "waiting_for" or "dependants" or "batch_id" or "then_job_id" or "job_ids" or "jobs" or "page" or "page_size" or "batch" or "last_batch_id";

    private static JsonNode Schema(JsonObject document, string path, string method, string status, string contentType) =>
        document["paths"]![path]![method]!["responses"]![status]!["content"]![contentType]!["schema"]!;

    private static JsonNode Resolve(JsonObject document, JsonNode schema) =>
        schema["$ref"] is { } reference
            ? document["components"]!["schemas"]![((string)reference!).Split('/')[^1]]!
            : schema;

    private static List<string> Properties(JsonNode schema) =>
        schema["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal).ToList();
}
