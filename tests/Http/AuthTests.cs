using Microsoft.Extensions.Configuration;
using System.Net;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text.Json.Nodes;
using Praison.Orleans.Gateway.Auth;

namespace Praison.Orleans.Tests.Http;

/// <summary>API keys and tenants (docs/api.md): API keys, tenants and their isolation, through a gateway that requires keys.</summary>
[Collection(JobsClusterCollection.Name)]
public sealed class AuthTests(JobsClusterFixture fixture)
{
    private HttpClient Http => fixture.AuthHttp;

    public static TheoryData<string, string> ProtectedEndpoints => new()
    {
        { "POST", "/api/v1/runs" },
        { "GET", "/api/v1/runs" },
        { "GET", "/api/v1/runs/run_0123456789ab" },
        { "GET", "/api/v1/runs/run_0123456789ab/result" },
        { "GET", "/api/v1/runs/run_0123456789ab/stream" },
        { "POST", "/api/v1/runs/run_0123456789ab/cancel" },
        { "DELETE", "/api/v1/runs/run_0123456789ab" },
        { "GET", "/stats" },
    };

    [Theory]
    [MemberData(nameof(ProtectedEndpoints))]
    public async Task NoKeyOrWrongKey_Is401WithUpstreamBody(string method, string path)
    {
        foreach (var key in new[] { null, "wrong", JobsClusterFixture.AcmeKey + "x", JobsClusterFixture.AcmeKey[..^1], "" })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (key is not null)
            {
                request.Headers.Add("X-API-Key", key);
            }

            using var response = await Http.SendAsync(request);

            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("""{"error":"Unauthorized"}""", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Health_IsPublic()
    {
        var response = await Http.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task BearerAndXApiKey_BothAuthenticate()
    {
        using var bearer = new HttpRequestMessage(HttpMethod.Get, "/api/v1/runs");
        bearer.Headers.Authorization = new("Bearer", JobsClusterFixture.AcmeKey);
        using var apiKey = new HttpRequestMessage(HttpMethod.Get, "/api/v1/runs");
        apiKey.Headers.Add("X-API-Key", JobsClusterFixture.GlobexKey);

        Assert.Equal(HttpStatusCode.OK, (await Http.SendAsync(bearer)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Http.SendAsync(apiKey)).StatusCode);
    }

    [Fact]
    public async Task AnotherTenantsJob_Is404Everywhere()
    {
        var jobId = await SubmitAsync(JobsClusterFixture.AcmeKey, new { prompt = "", recipe_name = "probe", recipe_config = new { scope = ProbeLedger.NewScope() } });
        var path = $"/api/v1/runs/{jobId}";

        foreach (var (method, url) in new[] { ("GET", path), ("GET", path + "/result"), ("GET", path + "/stream"), ("POST", path + "/cancel"), ("DELETE", path) })
        {
            using var response = await SendAsync(JobsClusterFixture.GlobexKey, method, url);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal($"Job not found: {jobId}", (string)(await response.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!);
        }

        var globexList = await GetJsonAsync(JobsClusterFixture.GlobexKey, "/api/v1/runs?page_size=100");
        Assert.DoesNotContain(jobId, globexList["jobs"]!.AsArray().Select(j => (string)j!["job_id"]!));
        using var ownStatus = await SendAsync(JobsClusterFixture.AcmeKey, "GET", path);
        Assert.Equal(HttpStatusCode.OK, ownStatus.StatusCode);
        using var cancel = await SendAsync(JobsClusterFixture.AcmeKey, "POST", path + "/cancel");
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
    }

    [Fact]
    public async Task Tenants_ListAndStatsOnlyTheirOwnJobs()
    {
        var session = "tenant-" + Guid.NewGuid().ToString("N");
        var acmeJob = await SubmitAsync(JobsClusterFixture.AcmeKey, new { prompt = "a", recipe_name = "echo", session_id = session });
        var globexJob = await SubmitAsync(JobsClusterFixture.GlobexKey, new { prompt = "g", recipe_name = "echo", session_id = session });

        var acmeList = await GetJsonAsync(JobsClusterFixture.AcmeKey, $"/api/v1/runs?session_id={session}");
        var globexList = await GetJsonAsync(JobsClusterFixture.GlobexKey, $"/api/v1/runs?session_id={session}");

        Assert.Equal([acmeJob], acmeList["jobs"]!.AsArray().Select(j => (string)j!["job_id"]!));
        Assert.Equal([globexJob], globexList["jobs"]!.AsArray().Select(j => (string)j!["job_id"]!));
        var defaultList = (await fixture.Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs?session_id={session}"))!;
        Assert.Equal(0, (int)defaultList["total"]!);
    }

    [Fact]
    public async Task IdempotencyKeys_ArePerTenant()
    {
        var key = "shared-" + Guid.NewGuid().ToString("N");

        var acme = await SubmitAsync(JobsClusterFixture.AcmeKey, new { prompt = "a", recipe_name = "echo", idempotency_key = key });
        var globex = await SubmitAsync(JobsClusterFixture.GlobexKey, new { prompt = "g", recipe_name = "echo", idempotency_key = key });
        var acmeAgain = await SubmitAsync(JobsClusterFixture.AcmeKey, new { prompt = "a", recipe_name = "echo", idempotency_key = key });

        Assert.NotEqual(acme, globex);
        Assert.Equal(acme, acmeAgain);
    }

    [Fact]
    public async Task StreamOfOwnJob_Works()
    {
        var jobId = await SubmitAsync(JobsClusterFixture.AcmeKey, new { prompt = "streamed", recipe_name = "echo" });
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/runs/{jobId}/stream");
        request.Headers.Add("X-API-Key", JobsClusterFixture.AcmeKey);

        using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var events = new List<SseItem<string>>();
        await foreach (var item in SseParser.Create(await response.Content.ReadAsStreamAsync()).EnumerateAsync())
        {
            events.Add(item);
        }

        Assert.Equal("result", events[^1].EventType);
    }

    [Fact]
    public async Task NoKeyConfigured_NonLoopbackBind_FailsClosedButHealthAnswers()
    {
        using var http = await fixture.StartPublicGatewayAsync();

        var runs = await http.GetAsync("/api/v1/runs");
        var submit = await http.PostAsJsonAsync("/api/v1/runs", new { prompt = "x", recipe_name = "echo" });
        var health = await http.GetAsync("/health");

        Assert.Equal(HttpStatusCode.Unauthorized, runs.StatusCode);
        Assert.Equal("""{"error":"PRAISONAI_JOBS_API_KEY required for non-localhost binding"}""", await runs.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, submit.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Theory]
    [InlineData(true, "http://127.0.0.1:8005")]
    [InlineData(true, "http://localhost:5000")]
    [InlineData(true, "http://[::1]:8005")]
    [InlineData(true, "http://127.0.0.2:80")]
    [InlineData(false, "http://0.0.0.0:8005")]
    [InlineData(false, "http://[::]:8005")]
    [InlineData(false, "http://*:8005")]
    [InlineData(false, "http://+:80")]
    [InlineData(false, "http://10.1.2.3:8005")]
    [InlineData(false, "http://example.org:8005")]
    public void BindAddresses_OnlyLoopbackCountsAsLocal(bool loopback, string address)
    {
        Assert.Equal(loopback, BindAddresses.AreLoopbackOnly([address]));
        Assert.False(BindAddresses.AreLoopbackOnly(["http://127.0.0.1:1", "http://0.0.0.0:2"]));
    }

    [Fact]
    public void KeyRing_MatchesWholeKeysOnlyAndNamesTheirTenant()
    {
        var ring = new ApiKeyRing(
            Microsoft.Extensions.Options.Options.Create(new ApiKeyOptions
            {
                Tenants = { ["acme"] = new TenantKeys { KeySha256 = { Convert.ToHexString(ApiKeyRing.Digest("k1")) } } },
            }),
            new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?> { [ApiKeyOptions.SingleKeyVariable] = "single" })
                .Build());

        Assert.True(ring.Enabled);
        Assert.Equal(new KeyHolder("acme", Operator: false), ring.HolderOf("k1"));
        Assert.Equal(new KeyHolder(JobKeys.DefaultTenant, Operator: false), ring.HolderOf("single")); // tenants are configured
        Assert.Null(ring.HolderOf("k"));
        Assert.Null(ring.HolderOf("k1 "));
        Assert.Null(ring.HolderOf(""));
    }

    private async Task<string> SubmitAsync(string key, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/runs") { Content = JsonContent.Create(body) };
        request.Headers.Add("X-API-Key", key);
        using var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (string)(await response.Content.ReadFromJsonAsync<JsonObject>())!["job_id"]!;
    }

    private Task<HttpResponseMessage> SendAsync(string key, string method, string url)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), url);
        request.Headers.Add("X-API-Key", key);
        return Http.SendAsync(request);
    }

    private async Task<JsonObject> GetJsonAsync(string key, string url)
    {
        using var response = await SendAsync(key, "GET", url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }
}
