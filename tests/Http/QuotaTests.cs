using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Praison.Orleans.Gateway.Auth;
using Praison.Orleans.Gateway.Http;

namespace Praison.Orleans.Tests.Http;

/// <summary>Limits a client meets: field sizes (422), result size, submit rate and live jobs per tenant (429).</summary>
[Collection(JobsClusterCollection.Name)]
public sealed class QuotaTests(JobsClusterFixture fixture)
{
    [Theory]
    [InlineData("prompt", "Api:MaxPromptChars", 256 * 1024)]
    [InlineData("agent_yaml", "Api:MaxAgentYamlChars", 256 * 1024)]
    [InlineData("recipe_config", "Api:MaxConfigChars", 64 * 1024)]
    [InlineData("config", "Api:MaxConfigChars", 64 * 1024)]
    public async Task Submit_AFieldOverItsSizeLimit_Is422NamingTheSetting(string field, string setting, int limit)
    {
        var body = new JsonObject { ["prompt"] = "x", ["recipe_name"] = "echo" };
        body[field] = field.EndsWith("config", StringComparison.Ordinal)
            ? new JsonObject { ["k"] = new string('c', limit) } // its JSON text is the object, quotes and key included
            : new string('y', limit + 1);

        var response = await fixture.Http.PostAsJsonAsync("/api/v1/runs", body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal($"Must be at most {limit} characters ({setting})", (string)problem["errors"]![field]![0]!);
    }

    [Fact]
    public async Task AResultOverTheLimit_FailsTheJobSayingSo()
    {
        var job = fixture.NewJob(out _);

        await job.SubmitAsync(Specs.Recipe(BigRecipe.RecipeName, $$"""{"bytes":{{8 * 1024 * 1024}}}"""));
        var done = await job.UntilTerminal();

        Assert.Equal(JobStatus.Failed, done!.Status);
        Assert.Equal($"Result too large: {8 * 1024 * 1024 + 2} characters; the limit is {8 * 1024 * 1024} (Jobs:MaxResultChars)", done.Error);
    }

    [Fact]
    public async Task SubmitsPastATenantsRate_Are429WithRetryAfter_AndOtherTenantsAreNotHeldBack()
    {
        var (acme, globex) = ("quota-" + Guid.NewGuid().ToString("N")[..8], "quota-" + Guid.NewGuid().ToString("N")[..8]);
        using var http = await fixture.StartGatewayAsync(
            "--Api:SubmitsPerSecondPerTenant=0.01", "--Api:SubmitBurstPerTenant=2", Key(acme, "acme-rate-key"), Key(globex, "globex-rate-key"));

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            answers.Add((await SubmitAsync(http, "acme-rate-key")).StatusCode);
        }

        var refused = await SubmitAsync(http, "acme-rate-key");
        var other = await SubmitAsync(http, "globex-rate-key");

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.TooManyRequests], answers);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType!.MediaType);
        Assert.True(refused.Headers.RetryAfter!.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.Accepted, other.StatusCode);
    }

    [Fact]
    public void TheDefaultSubmitRate_Is200PerSecondWithKeys_AndNoneWithout()
    {
        Assert.Equal((200, 400), new ApiOptions().SubmitRate(keysConfigured: true));
        Assert.Equal((0, 1), new ApiOptions().SubmitRate(keysConfigured: false));
        Assert.Equal((5, 10), new ApiOptions { SubmitsPerSecondPerTenant = 5 }.SubmitRate(keysConfigured: false));
        Assert.Equal((0, 7), new ApiOptions { SubmitsPerSecondPerTenant = 0, SubmitBurstPerTenant = 7 }.SubmitRate(keysConfigured: true));
    }

    [Fact]
    public async Task AKeylessGateway_HasNoSubmitRateUnlessOneIsSet()
    {
        // A developer's own server: a load test or a busy pipeline is not cut off at some rate it never chose.
        using var http = await fixture.StartGatewayAsync("--Api:SubmitBurstPerTenant=2");

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            answers.Add((await http.PostAsJsonAsync("/api/v1/runs", new { prompt = "x", recipe_name = "echo" })).StatusCode);
        }

        Assert.All(answers, answer => Assert.Equal(HttpStatusCode.Accepted, answer));
    }

    [Fact]
    public async Task SubmitsPastATenantsLiveJobs_Are429_UntilOneEnds()
    {
        var tenant = "quota-" + Guid.NewGuid().ToString("N")[..8];
        using var http = await fixture.StartGatewayAsync("--Api:MaxLiveJobsPerTenant=2", Key(tenant, "live-quota-key"));
        var scope = ProbeLedger.NewScope();
        var forever = new JsonObject { ["prompt"] = "x", ["recipe_name"] = ProbeRecipe.RecipeName, ["recipe_config"] = JsonNode.Parse(ProbeLedger.Config(scope)) };
        var live = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var accepted = await SubmitAsync(http, "live-quota-key", forever);
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            live.Add((string)(await accepted.Content.ReadFromJsonAsync<JsonObject>())!["job_id"]!);
        }

        var refused = await SubmitAsync(http, "live-quota-key", forever);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("Api:MaxLiveJobsPerTenant", (string)(await refused.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!);
        Assert.NotNull(refused.Headers.RetryAfter);

        using var cancel = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/runs/{live[0]}/cancel");
        cancel.Headers.Add("X-API-Key", "live-quota-key");
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(cancel)).StatusCode);
        var again = await Eventually.Until(
            () => SubmitAsync(http, "live-quota-key", new { prompt = "x", recipe_name = "echo" }),
            response => response.StatusCode == HttpStatusCode.Accepted,
            "a submit to be let through once a live job has ended");
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);

        using var cancelLast = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/runs/{live[1]}/cancel");
        cancelLast.Headers.Add("X-API-Key", "live-quota-key");
        await http.SendAsync(cancelLast);
    }

    [Fact]
    public async Task AtTheLiveJobsQuota_ARepeatWithItsIdempotencyKey_Is202WithItsJob()
    {
        var tenant = "quota-" + Guid.NewGuid().ToString("N")[..8];
        using var http = await fixture.StartGatewayAsync("--Api:MaxLiveJobsPerTenant=1", Key(tenant, "repeat-quota-key"));
        var forever = new { prompt = "x", recipe_name = "wait", recipe_config = new { seconds = 600 } };
        var first = await SubmitAsync(http, "repeat-quota-key", forever, idempotencyKey: "nightly-report");
        var jobId = (string)(await first.Content.ReadFromJsonAsync<JsonObject>())!["job_id"]!;

        var repeat = await SubmitAsync(http, "repeat-quota-key", forever, idempotencyKey: "nightly-report");
        var other = await SubmitAsync(http, "repeat-quota-key", forever, idempotencyKey: "another-report");

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, repeat.StatusCode);
        Assert.Equal(jobId, (string)(await repeat.Content.ReadFromJsonAsync<JsonObject>())!["job_id"]!);
        Assert.Equal(HttpStatusCode.TooManyRequests, other.StatusCode); // a new key would make a job: refused
        await SendAsync(http, "repeat-quota-key", HttpMethod.Post, $"/api/v1/runs/{jobId}/cancel");
    }

    [Fact]
    public async Task SubmitsThatMakeNoJob_DoNotUseUpTheLiveJobsQuota()
    {
        var tenant = "quota-" + Guid.NewGuid().ToString("N")[..8];
        using var http = await fixture.StartGatewayAsync("--Api:MaxLiveJobsPerTenant=2", Key(tenant, "refused-quota-key"));
        var forever = new { prompt = "x", recipe_name = "wait", recipe_config = new { seconds = 600 } };

        // Refused by the silo (an unknown recipe), and repeats of a key: no job is made by any of them.
        var refused = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            refused.Add((await SubmitAsync(http, "refused-quota-key", new { prompt = "x", recipe_name = "no-such-recipe" })).StatusCode);
        }

        var keyed = await SubmitAsync(http, "refused-quota-key", forever, idempotencyKey: "once");
        var repeats = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            repeats.Add((await SubmitAsync(http, "refused-quota-key", forever, idempotencyKey: "once")).StatusCode);
        }

        var second = await SubmitAsync(http, "refused-quota-key", forever);
        var third = await SubmitAsync(http, "refused-quota-key", forever);

        Assert.All(refused, status => Assert.Equal(HttpStatusCode.UnprocessableEntity, status));
        Assert.All(repeats, status => Assert.Equal(HttpStatusCode.Accepted, status));
        Assert.Equal((HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.TooManyRequests), (keyed.StatusCode, second.StatusCode, third.StatusCode));
        foreach (var made in new[] { keyed, second })
        {
            await SendAsync(http, "refused-quota-key", HttpMethod.Post, $"/api/v1/runs/{(string)(await made.Content.ReadFromJsonAsync<JsonObject>())!["job_id"]!}/cancel");
        }
    }

    [Fact]
    public async Task TriggeringASchedule_IsASubmit_HeldToTheSameRateAndLiveJobs()
    {
        var (slow, full) = ("quota-" + Guid.NewGuid().ToString("N")[..8], "quota-" + Guid.NewGuid().ToString("N")[..8]);
        using var http = await fixture.StartGatewayAsync(
            "--Api:SubmitsPerSecondPerTenant=0.01", "--Api:SubmitBurstPerTenant=2", Key(slow, "slow-trigger-key"));
        using var liveHttp = await fixture.StartGatewayAsync("--Api:MaxLiveJobsPerTenant=1", Key(full, "full-trigger-key"));
        var forever = new { prompt = "x", recipe_name = "wait", recipe_config = new { seconds = 600 } };
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(http, "slow-trigger-key", HttpMethod.Post, "/api/v1/schedules", new { schedule_id = "s", cron = "0 3 * * *", job = new { prompt = "x", recipe_name = "echo" } })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(liveHttp, "full-trigger-key", HttpMethod.Post, "/api/v1/schedules", new { schedule_id = "s", cron = "0 3 * * *", job = forever })).StatusCode);

        var rated = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            rated.Add((await SendAsync(http, "slow-trigger-key", HttpMethod.Post, "/api/v1/schedules/s/trigger")).StatusCode);
        }

        var first = await SendAsync(liveHttp, "full-trigger-key", HttpMethod.Post, "/api/v1/schedules/s/trigger");
        var second = await SendAsync(liveHttp, "full-trigger-key", HttpMethod.Post, "/api/v1/schedules/s/trigger");

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.TooManyRequests], rated);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Contains("Api:MaxLiveJobsPerTenant", (string)(await second.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!);
        var schedule = (await (await SendAsync(liveHttp, "full-trigger-key", HttpMethod.Get, "/api/v1/schedules/s")).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(1, (long)schedule["runs"]!); // the refused trigger submitted nothing
        await SendAsync(liveHttp, "full-trigger-key", HttpMethod.Post, $"/api/v1/runs/{(string)schedule["last_job_id"]!}/cancel");
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, string key, HttpMethod method, string path, object? body = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Add("X-API-Key", key);
        return http.SendAsync(request);
    }

    private static string Key(string tenant, string key) =>
        $"--Auth:Tenants:{tenant}:KeySha256:0={Convert.ToHexString(ApiKeyRing.Digest(key))}";

    private static Task<HttpResponseMessage> SubmitAsync(HttpClient http, string key, object? body = null, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/runs")
        {
            Content = JsonContent.Create(body ?? new { prompt = "x", recipe_name = "echo" }),
        };
        request.Headers.Add("X-API-Key", key);
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return http.SendAsync(request);
    }
}
