using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Praison.Orleans.Grains.Webhooks;

namespace Praison.Orleans.Tests.Http;

/// <summary>Webhooks (docs/api.md) against a real receiver on loopback: one signed delivery per terminal transition.</summary>
[Collection(JobsClusterCollection.Name)]
public sealed class WebhookTests(JobsClusterFixture fixture) : IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    public static TheoryData<string, string, string?> Endings => new()
    {
        { "succeeded", "echo", null },
        { "failed", "fail", "boom" },
        { "timeout", "timeout", "Job timed out after 1s" },
        { "cancelled", "cancel", null },
    };

    [Theory]
    [MemberData(nameof(Endings))]
    public async Task TerminalTransition_DeliversOneSignedWebhookWithTheOutcome(string ending, string kind, string? error)
    {
        var name = $"{ending}-{Guid.NewGuid():N}";
        var scope = ProbeLedger.NewScope();
        object body = kind switch
        {
            "echo" => new { prompt = "hooked", recipe_name = "echo", webhook_url = _receiver.UrlFor(name) },
            "fail" => new { prompt = "", recipe_name = "wait", recipe_config = new { seconds = 0, steps = 1, fail = "boom" }, webhook_url = _receiver.UrlFor(name) },
            "timeout" => new { prompt = "", recipe_name = "probe", recipe_config = new { scope }, timeout = 1, webhook_url = _receiver.UrlFor(name) },
            _ => new { prompt = "", recipe_name = "probe", recipe_config = new { scope }, webhook_url = _receiver.UrlFor(name) },
        };
        var jobId = await fixture.Http.SubmitJobAsync(body);
        if (kind == "cancel")
        {
            await Eventually.Until(() => ProbeLedger.Runs(scope).Count == 1, "the probe to start");
            (await fixture.Http.PostAsync($"/api/v1/runs/{jobId}/cancel", null)).EnsureSuccessStatusCode();
        }

        var status = await fixture.Http.UntilWebhookSettledAsync(jobId);

        var delivery = Assert.Single(_receiver.DeliveriesTo(name));
        var payload = JsonNode.Parse(delivery.Body)!.AsObject();
        Assert.Equal(["job_id", "status", "result", "error", "completed_at", "duration_seconds"], payload.Select(p => p.Key));
        Assert.Equal(jobId, (string)payload["job_id"]!);
        Assert.Equal((string)status["status"]!, (string)payload["status"]!);
        Assert.Equal(kind == "echo" ? "hooked" : null, (string?)payload["result"]);
        Assert.Equal(error, (string?)payload["error"]);
        Assert.Equal((string)status["completed_at"]!, (string)payload["completed_at"]!);
        Assert.Equal(WebhookSender.Sign(JobsClusterFixture.WebhookSecret, Encoding.UTF8.GetBytes(delivery.Body)), delivery.Signature);
        Assert.NotNull(status["webhook"]!["delivered_at"]);
        Assert.Null(status["webhook"]!["error"]);
    }

    [Fact]
    public async Task AResultOverTheWebhooksLimit_IsLinked_NotCarried()
    {
        // A 100,000-character result, past Webhooks:MaxResultChars (64 Ki): each attempt would carry it to a client-named URL.
        var name = $"big-{Guid.NewGuid():N}";
        var jobId = await fixture.Http.SubmitJobAsync(new { prompt = "", recipe_name = BigRecipe.RecipeName, recipe_config = new { bytes = 100_000 }, webhook_url = _receiver.UrlFor(name) });

        await fixture.Http.UntilWebhookSettledAsync(jobId);

        var delivery = Assert.Single(_receiver.DeliveriesTo(name));
        var payload = JsonNode.Parse(delivery.Body)!.AsObject();
        Assert.True(delivery.Body.Length < 1000, $"the payload carried {delivery.Body.Length} characters");
        Assert.Equal("succeeded", (string)payload["status"]!);
        Assert.Null(payload["result"]);
        var resultUrl = (string)payload["result_url"]!;
        Assert.Equal(new Uri(fixture.Http.BaseAddress!, $"/api/v1/runs/{jobId}/result"), new Uri(resultUrl));
        var result = (await fixture.Http.GetFromJsonAsync<JsonObject>(resultUrl))!;
        Assert.Equal(BigRecipe.Pattern(100_000), (string)result["result"]!);
    }

    [Fact]
    public async Task ReceiverFailingThreeTimes_StillGetsExactlyOneSuccessfulDelivery()
    {
        var name = $"flaky-{Guid.NewGuid():N}";
        var jobId = await fixture.Http.SubmitJobAsync(new { prompt = "retry me", recipe_name = "echo", webhook_url = _receiver.UrlFor(name, fail: 3) });

        var status = await fixture.Http.UntilWebhookSettledAsync(jobId);

        var deliveries = _receiver.DeliveriesTo(name);
        Assert.Equal([500, 500, 500, 200], deliveries.Select(d => d.AnsweredWith));
        Assert.Single(deliveries.Select(d => d.Body).Distinct());
        Assert.NotNull(status["webhook"]!["delivered_at"]);
    }

    [Fact]
    public async Task PendingDelivery_SurvivesTheGrainMoving_AndIsDeliveredOnce()
    {
        var name = $"moved-{Guid.NewGuid():N}";
        // Six failures use up one delivery's attempts: only a delivery resumed by the next activation can succeed.
        var jobId = await fixture.Http.SubmitJobAsync(new { prompt = "x", recipe_name = "echo", webhook_url = _receiver.UrlFor(name, fail: 6) });
        await Eventually.Until(() => _receiver.DeliveriesTo(name).Count >= 1, "the first attempt to reach the receiver");

        await fixture.Cluster.DeactivateAsync(fixture.Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, jobId)));
        var status = await fixture.Http.UntilWebhookSettledAsync(jobId);

        Assert.NotNull(status["webhook"]!["delivered_at"]);
        Assert.Single(_receiver.DeliveriesTo(name), d => d.AnsweredWith == 200);
    }

    [Fact]
    public async Task ReceiverAlwaysFailing_FirstRoundMakesItsAttempts_ThenStaysPendingWithTheError()
    {
        // This cluster's sweep runs once a minute and the next round waits a minute: only the first round happens here.
        var name = $"dead-{Guid.NewGuid():N}";
        var jobId = await fixture.Http.SubmitJobAsync(new { prompt = "x", recipe_name = "echo", webhook_url = _receiver.UrlFor(name, fail: 1000) });

        var webhook = (await fixture.Http.UntilWebhookRoundFailedAsync(jobId))["webhook"]!;

        Assert.Equal(6, _receiver.DeliveriesTo(name).Count);
        Assert.True((bool)webhook["pending"]!);
        Assert.Null(webhook["delivered_at"]);
        Assert.Equal("HTTP 500", (string)webhook["error"]!);
    }


    [Theory]
    [InlineData("ftp://example.org/hook", "http or https")]
    [InlineData("not a url", "http or https")]
    [InlineData("/relative/hook", "http or https")]
    [InlineData("http://127.0.0.1:9/hook", "loopback")]
    [InlineData("http://[::1]:9/hook", "loopback")]
    [InlineData("http://localhost:9/hook", "loopback")]
    [InlineData("http://10.1.2.3/hook", "private")]
    [InlineData("http://192.168.0.10/hook", "private")]
    [InlineData("http://172.20.0.1/hook", "private")]
    [InlineData("http://169.254.169.254/latest", "link-local")]
    [InlineData("http://224.0.0.1/hook", "multicast")]
    [InlineData("http://[fe80::1]/hook", "link-local")]
    [InlineData("http://[fd00::1]/hook", "private")]
    public async Task BadWebhookUrl_Is422AndCreatesNothing(string url, string reason)
    {
        var session = "hook-" + Guid.NewGuid().ToString("N");

        var response = await fixture.Http2.PostAsJsonAsync("/api/v1/runs", new { prompt = "x", recipe_name = "echo", session_id = session, webhook_url = url });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Contains(reason, (string)problem["errors"]!["webhook_url"]![0]!);
        var listed = (await fixture.Http2.GetFromJsonAsync<JsonObject>($"/api/v1/runs?session_id={session}"))!;
        Assert.Equal(0, (int)listed["total"]!);
    }

}
