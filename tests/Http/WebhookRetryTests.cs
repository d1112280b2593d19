using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Praison.Orleans.Grains.Execution;

namespace Praison.Orleans.Tests.Http;

/// <summary>
/// One silo that sweeps every second and tries a failed webhook round again after 100 ms (doubling,
/// at most 500 ms) for up to 10 s after the job ended, with five attempts a round.
/// </summary>
public sealed class WebhookRetryFixture : JobsClusterFixture
{
    public const int AttemptsPerRound = 5;

    public static readonly TimeSpan Horizon = TimeSpan.FromSeconds(10);

    protected override int SiloCount => 1;

    protected override void ConfigureJobs(JobsOptions options) => options.SweepPeriod = TimeSpan.FromSeconds(1);

    protected override void ConfigureWebhooks(WebhookOptions options)
    {
        options.MaxAttempts = AttemptsPerRound;
        options.FirstRoundDelay = TimeSpan.FromMilliseconds(100);
        options.LongestRoundDelay = TimeSpan.FromMilliseconds(500);
        options.RetryHorizon = Horizon;
    }
}

/// <summary>A webhook outlives a receiver outage longer than one round, and the deletion of its job.</summary>
public sealed class WebhookRetryTests(WebhookRetryFixture fixture) : IClassFixture<WebhookRetryFixture>, IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    public async Task ReceiverDownForLongerThanARound_IsDeliveredByALaterRound()
    {
        var name = "outage-" + Guid.NewGuid().ToString("N");
        var failures = WebhookRetryFixture.AttemptsPerRound + 2; // the whole first round and part of the next

        var jobId = await fixture.Http.SubmitJobAsync(new { prompt = "x", recipe_name = "echo", webhook_url = _receiver.UrlFor(name, fail: failures) });
        var webhook = (await fixture.Http.UntilWebhookSettledAsync(jobId))["webhook"]!;

        Assert.NotNull(webhook["delivered_at"]);
        Assert.Null(webhook["error"]);
        Assert.Equal(failures + 1, _receiver.DeliveriesTo(name).Count);
    }

    [Fact]
    public async Task DeletedWhileItsWebhookIsPending_IsGoneForClients_AndTheWebhookIsStillDelivered()
    {
        var name = "deleted-" + Guid.NewGuid().ToString("N");
        var session = "deleted-" + Guid.NewGuid().ToString("N");
        var failures = WebhookRetryFixture.AttemptsPerRound + 2;
        var jobId = await fixture.Http.SubmitJobAsync(new
        {
            prompt = "x", recipe_name = "echo", session_id = session, webhook_url = _receiver.UrlFor(name, fail: failures),
        });
        await fixture.Http.UntilWebhookRoundFailedAsync(jobId);

        var deleted = await fixture.Http.DeleteAsync($"/api/v1/runs/{jobId}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Http.GetAsync($"/api/v1/runs/{jobId}")).StatusCode);
        Assert.Equal(0, (int)(await fixture.Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs?session_id={session}"))!["total"]!);
        await Eventually.Until(
            () => _receiver.DeliveriesTo(name).Any(d => d.AnsweredWith == 200), "the webhook to be delivered after the delete");
        var recovery = fixture.Client.GetGrain<IJobRecoveryGrain>(JobKeys.For(JobKeys.DefaultTenant, jobId));
        await Eventually.Until(() => recovery.CatchUpAsync(0, false), exists => !exists, "the job to be removed for good");
    }

    [Fact]
    public async Task ReceiverNeverUp_IsRetriedInRounds_ThenGivenUpAtTheHorizon()
    {
        var name = "never-" + Guid.NewGuid().ToString("N");

        var jobId = await fixture.Http.SubmitJobAsync(new { prompt = "x", recipe_name = "echo", webhook_url = _receiver.UrlFor(name, fail: int.MaxValue) });
        var webhook = (await fixture.Http.UntilWebhookSettledAsync(jobId))["webhook"]!; // the horizon is 10 s: well within the wait

        Assert.Equal("HTTP 500", (string)webhook["error"]!);
        Assert.Null(webhook["delivered_at"]);
        Assert.True(_receiver.DeliveriesTo(name).Count > WebhookRetryFixture.AttemptsPerRound, "more than one round was tried");
    }
}
