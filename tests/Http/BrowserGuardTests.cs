using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Praison.Orleans.Tests.Http;

/// <summary>
/// Keyless mode against what a web page in the developer's browser can send (docs/api.md: Security): another
/// site's requests and DNS-rebound host names are refused, and change nothing; curl, SDKs and same-origin
/// pages go on. The headers are the ones Chromium sends (the browser test sends them for real).
/// </summary>
[Collection(JobsClusterCollection.Name)]
public sealed class BrowserGuardTests(JobsClusterFixture fixture)
{
    private HttpClient Http => fixture.Http;

    public static TheoryData<string, string?> CrossSiteHeaders => new()
    {
        { "https://evil.example", "cross-site" },
        { "http://127.0.0.1:1", "same-site" },   // another loopback port: same site, another origin
        { "https://evil.example", null },        // a browser that sends no Sec-Fetch-Site: its Origin decides
        { "null", null },                        // a sandboxed frame or a file:// page
    };

    [Theory]
    [MemberData(nameof(CrossSiteHeaders))]
    public async Task CrossSiteTextPlainPosts_Are403_AndMakeNoJobOrSchedule(string origin, string? site)
    {
        var session = "cross-site-" + Guid.NewGuid().ToString("N");
        var scheduleId = "guard-" + Guid.NewGuid().ToString("N")[..12];
        Assert.Equal(HttpStatusCode.Created, (await Http.PostAsJsonAsync("/api/v1/schedules",
            new { schedule_id = scheduleId, cron = "0 3 * * *", paused = true, job = new { prompt = "x", recipe_name = "echo" } })).StatusCode);

        var submit = await SendAsync(HttpMethod.Post, "/api/v1/runs", origin, site, $$"""{"prompt": "x", "recipe_name": "echo", "session_id": "{{session}}"}""");
        var schedule = await SendAsync(HttpMethod.Post, "/api/v1/schedules", origin, site, $$$"""{"schedule_id": "{{{scheduleId}}}x", "cron": "0 3 * * *", "job": {"prompt": "x"}}""");
        var trigger = await SendAsync(HttpMethod.Post, $"/api/v1/schedules/{scheduleId}/trigger", origin, site);
        var resume = await SendAsync(HttpMethod.Post, $"/api/v1/schedules/{scheduleId}/resume", origin, site);
        var list = await SendAsync(HttpMethod.Get, "/api/v1/runs", origin, site);

        foreach (var response in new[] { submit, schedule, trigger, resume, list })
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.StartsWith("Cross-site request refused", (string)(await ProblemOf(response))["detail"]!);
        }

        Assert.Equal(0, (int)(await Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs?session_id={session}"))!["total"]!);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync($"/api/v1/schedules/{scheduleId}x")).StatusCode);
        var untouched = (await Http.GetFromJsonAsync<JsonObject>($"/api/v1/schedules/{scheduleId}"))!;
        Assert.True((bool)untouched["paused"]!);
        Assert.Equal(0, (long)untouched["runs"]!);
        await Http.DeleteAsync($"/api/v1/schedules/{scheduleId}");
    }

    [Theory]
    [InlineData("/api/v1/runs")]
    [InlineData("/api/v1/runs/run_0123456789ab/result")]
    [InlineData("/api/v1/schedules")]
    [InlineData("/stats")]
    [InlineData("/dashboard")]
    public async Task ARequestForAForeignHostName_Is403(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = "rebind.evil.example";

        using var response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.StartsWith("Host 'rebind.evil.example' is not a loopback name", (string)(await ProblemOf(response))["detail"]!);
    }

    [Fact]
    public async Task Health_AnswersAnyHost()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/health");
        request.Headers.Host = "rebind.evil.example";

        Assert.Equal(HttpStatusCode.OK, (await Http.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task CurlSameOriginPagesLoopbackNamesAndNavigations_GoOn()
    {
        var own = Http.BaseAddress!.GetLeftPart(UriPartial.Authority);
        var body = """{"prompt": "x", "recipe_name": "echo"}""";

        var curl = await SendAsync(HttpMethod.Post, "/api/v1/runs", null, null, body);
        var sameOrigin = await SendAsync(HttpMethod.Post, "/api/v1/runs", "null", "same-origin", body); // the dashboard: no-referrer pages send Origin: null
        var ownOrigin = await SendAsync(HttpMethod.Post, "/api/v1/runs", own, null, body);
        var typedUrl = await SendAsync(HttpMethod.Get, "/api/v1/runs", null, "none");
        var linkFromElsewhere = await SendAsync(HttpMethod.Get, "/dashboard", null, "cross-site", navigate: true);
        using var byName = new HttpRequestMessage(HttpMethod.Get, "/api/v1/runs");
        byName.Headers.Host = $"localhost:{Http.BaseAddress.Port}";
        using var byIPv6 = new HttpRequestMessage(HttpMethod.Get, "/api/v1/runs");
        byIPv6.Headers.Host = $"[::1]:{Http.BaseAddress.Port}";

        Assert.Equal(
            [HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK],
            [curl.StatusCode, sameOrigin.StatusCode, ownOrigin.StatusCode, typedUrl.StatusCode, linkFromElsewhere.StatusCode,
                (await Http.SendAsync(byName)).StatusCode, (await Http.SendAsync(byIPv6)).StatusCode]);
    }

    [Fact]
    public async Task ACrossSiteFormPostingAsANavigation_IsStill403()
    {
        var response = await SendAsync(HttpMethod.Post, "/api/v1/runs", "https://evil.example", "cross-site", """{"prompt": "x"}""", navigate: true);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task WithApiKeys_TheGuardIsOff_AsAPageCannotSendTheKey()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/runs");
        request.Headers.Host = "jobs.example.org";
        request.Headers.Add("X-API-Key", JobsClusterFixture.AcmeKey);
        request.Headers.Add("Sec-Fetch-Site", "cross-site");

        Assert.Equal(HttpStatusCode.OK, (await fixture.AuthHttp.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task OnAClosedNonLoopbackGateway_AForeignHostStillGetsThe401()
    {
        using var http = await fixture.StartPublicGatewayAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/runs");
        request.Headers.Host = "jobs.internal";

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? origin, string? site, string? body = null, bool navigate = false)
    {
        // What a form or a no-cors fetch sends: text/plain needs no CORS preflight.
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : new StringContent(body, Encoding.UTF8, "text/plain") };
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        if (site is not null)
        {
            request.Headers.Add("Sec-Fetch-Site", site);
            request.Headers.Add("Sec-Fetch-Mode", navigate ? "navigate" : "no-cors");
        }

        var response = await Http.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private static async Task<JsonObject> ProblemOf(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }
}
