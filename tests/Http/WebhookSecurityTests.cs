using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Praison.Orleans.Tests.Http;

/// <summary>
/// Webhooks cannot be aimed inside the network: private targets refused at submit in every IPv6 form
/// that carries an IPv4 address, redirects not followed, and network errors not echoed.
/// </summary>
[Collection(JobsClusterCollection.Name)]
public sealed class WebhookSecurityTests(JobsClusterFixture fixture)
{
    [Theory]
    [InlineData("http://[::127.0.0.1]/hook", "loopback")]              // IPv4-compatible
    [InlineData("http://[::ffff:127.0.0.1]/hook", "loopback")]         // IPv4-mapped
    [InlineData("http://[::ffff:0:127.0.0.1]/hook", "loopback")]       // IPv4-translated
    [InlineData("http://[64:ff9b::127.0.0.1]/hook", "loopback")]       // NAT64
    [InlineData("http://[64:ff9b::a9fe:a9fe]/hook", "link-local")]     // NAT64 of 169.254.169.254
    [InlineData("http://[64:ff9b:1::1]/hook", "private")]              // local-use NAT64
    [InlineData("http://[2002:7f00:1::]/hook", "loopback")]            // 6to4
    [InlineData("http://[2002:a00:1::]/hook", "private")]              // 6to4 of 10.0.0.1
    [InlineData("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook", "loopback")] // Teredo client 127.0.0.1
    [InlineData("http://[fd00::1]/hook", "private")]
    [InlineData("http://169.254.169.254/latest/meta-data", "link-local")]
    [InlineData("http://100.64.0.1/hook", "shared (carrier-grade NAT)")]
    public async Task Submit_WebhookToANonPublicAddressInAnyForm_Is422(string url, string kind)
    {
        var response = await fixture.Http2.PostAsJsonAsync("/api/v1/runs", new { prompt = "x", recipe_name = "echo", webhook_url = url });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Contains($"is a {kind} address", (string)problem["errors"]!["webhook_url"]![0]!);
    }

    [Fact]
    public async Task Submit_WebhookHostOver253Characters_Is422()
    {
        var url = $"http://{string.Join('.', Enumerable.Repeat(new string('a', 60), 5))}/hook";

        var response = await fixture.Http2.PostAsJsonAsync("/api/v1/runs", new { prompt = "x", recipe_name = "echo", webhook_url = url });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("Host must be at most 253 characters", (string)problem["errors"]!["webhook_url"]![0]!);
    }

    [Theory]
    [InlineData(307)]
    [InlineData(302)]
    public async Task Delivery_AnsweredWithARedirect_IsAFailedAttemptAndTheRedirectIsNotFollowed(int status)
    {
        var followed = 0;
        await using var server = await LoopbackServer.StartAsync(app =>
        {
            app.MapPost("/hook", (HttpContext context) =>
            {
                context.Response.StatusCode = status;
                context.Response.Headers.Location = "/inside";
            });
            app.MapMethods("/inside", [HttpMethods.Get, HttpMethods.Post], () => Interlocked.Increment(ref followed));
        });

        var jobId = await fixture.Http.SubmitJobAsync(new { prompt = "x", recipe_name = "echo", webhook_url = $"{server.BaseUrl}/hook" });
        var webhook = (await fixture.Http.UntilWebhookSettledAsync(jobId))["webhook"]!;

        Assert.Equal($"HTTP {status}: redirects are not followed", (string)webhook["error"]!);
        Assert.Null(webhook["delivered_at"]);
        Assert.Equal(0, followed);
    }

    [Fact]
    public async Task Delivery_ToAClosedPort_RecordsAGenericReason_NotTheAddress()
    {
        var port = FreePorts.Take(1)[0];

        var jobId = await fixture.Http.SubmitJobAsync(new { prompt = "x", recipe_name = "echo", webhook_url = $"http://127.0.0.1:{port}/hook" });
        var webhook = (await fixture.Http.UntilWebhookRoundFailedAsync(jobId))["webhook"]!;

        Assert.Equal("connection failed", (string)webhook["error"]!);
    }

}

/// <summary>
/// One silo that keeps the default webhook rule (no non-public targets), behind a gateway that lets a
/// loopback URL through at submit: what a DNS answer that changed after the submit check would do.
/// </summary>
public sealed class StrictWebhookClusterFixture : JobsClusterFixture
{
    protected override int SiloCount => 1;

    protected override bool SilosAllowPrivateWebhookTargets => false;
}

public sealed class WebhookConnectCheckTests(StrictWebhookClusterFixture fixture) : IClassFixture<StrictWebhookClusterFixture>
{
    [Fact]
    public async Task Delivery_WhoseHostNowResolvesToLoopback_IsRefusedWhereTheConnectionIsMade()
    {
        await using var receiver = await WebhookReceiver.StartAsync();

        var jobId = await fixture.Http.SubmitJobAsync(new { prompt = "x", recipe_name = "echo", webhook_url = receiver.UrlFor("inside") });
        var webhook = (await fixture.Http.UntilWebhookSettledAsync(jobId))["webhook"]!;

        Assert.Equal("target address not allowed", (string)webhook["error"]!);
        Assert.Empty(receiver.DeliveriesTo("inside"));
    }
}
