using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Praison.Orleans.Grains.Execution;
using Praison.Orleans.Grains.Index;

namespace Praison.Orleans.Tests.Http;

/// <summary>As <see cref="WebhookRetryFixture"/>, but a failed webhook is retried for two minutes after its job ended.</summary>
public sealed class LongHorizonWebhookFixture : JobsClusterFixture
{
    protected override int SiloCount => 1;

    protected override void ConfigureJobs(JobsOptions options) => options.SweepPeriod = TimeSpan.FromSeconds(1);

    protected override void ConfigureWebhooks(WebhookOptions options)
    {
        options.MaxAttempts = WebhookRetryFixture.AttemptsPerRound;
        options.FirstRoundDelay = TimeSpan.FromMilliseconds(100);
        options.LongestRoundDelay = TimeSpan.FromMilliseconds(500);
        options.RetryHorizon = TimeSpan.FromMinutes(2);
    }
}

/// <summary>
/// What a webhook's answer makes of its rounds (docs/api.md: Webhooks): a refusal that will not change
/// ends the delivery at once, one that may is retried, a <c>Retry-After</c> is kept, and between rounds
/// the job costs neither an activation nor a sweep's visit.
/// </summary>
public sealed class WebhookRoundTests(LongHorizonWebhookFixture fixture) : IClassFixture<LongHorizonWebhookFixture>, IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    [Theory]
    [InlineData(400)]
    [InlineData(404)]
    [InlineData(410)]
    [InlineData(422)]
    public async Task AReceiverThatRefusesTheRequest_GetsOnePost_AndTheWebhookIsGivenUp(int status)
    {
        var name = $"refused-{status}-{Guid.NewGuid():N}";

        var jobId = await fixture.Http.SubmitJobAsync(new { prompt = "x", recipe_name = "echo", webhook_url = _receiver.UrlFor(name, fail: int.MaxValue, status) });
        var webhook = (await fixture.Http.UntilWebhookSettledAsync(jobId))["webhook"]!;

        Assert.Equal($"HTTP {status}", (string)webhook["error"]!);
        Assert.Null(webhook["delivered_at"]);
        Assert.Null(webhook["next_round_at"]);
        Assert.Single(_receiver.DeliveriesTo(name));
    }

    [Theory]
    [InlineData(408)]
    [InlineData(409)]
    [InlineData(425)]
    [InlineData(429)]
    [InlineData(503)]
    public async Task AnAnswerThatMayChange_IsRetried_UntilDelivered(int status)
    {
        var name = $"retried-{status}-{Guid.NewGuid():N}";

        var jobId = await fixture.Http.SubmitJobAsync(new { prompt = "x", recipe_name = "echo", webhook_url = _receiver.UrlFor(name, fail: 2, status) });
        var webhook = (await fixture.Http.UntilWebhookSettledAsync(jobId))["webhook"]!;

        Assert.NotNull(webhook["delivered_at"]);
        Assert.Equal([status, status, 200], _receiver.DeliveriesTo(name).Select(d => d.AnsweredWith));
    }

    [Fact]
    public async Task ARetryAfterPastTheGapBetweenRounds_EndsTheRound_TheJobLeavesMemoryAndTheSweep_AndTheNextRoundWaitsForIt()
    {
        var name = "retry-after-" + Guid.NewGuid().ToString("N");
        var jobId = await fixture.Http.SubmitJobAsync(new { prompt = "x", recipe_name = "echo", webhook_url = _receiver.UrlFor(name, fail: 1, status: 429, retryAfter: 8) });
        var grain = fixture.Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, jobId)).GetGrainId();

        // Between the rounds: no activation holds the job (it is read from storage if asked), and it is not due.
        await Eventually.Until(
            () => Task.FromResult(!fixture.Cluster.TryGetGrainContext(grain, out _) && _receiver.DeliveriesTo(name).Count == 1),
            released => released,
            "the job to leave memory after its first round");
        var index = ((global::Orleans.TestingHost.InProcessSiloHandle)fixture.Cluster.Silos[0]).SiloHost.Services.GetRequiredService<IJobIndex>();
        var due = (await index.DueAsync(DateTimeOffset.UtcNow)).Select(e => e.Job.JobId).ToList();
        var waiting = (await fixture.Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{jobId}"))!["webhook"]!;
        var nextRoundAt = DateTimeOffset.Parse((string)waiting["next_round_at"]!, System.Globalization.CultureInfo.InvariantCulture);
        var dueThen = (await index.DueAsync(nextRoundAt.AddSeconds(1))).Select(e => e.Job.JobId).ToList();

        var settled = (await fixture.Http.UntilWebhookSettledAsync(jobId))["webhook"]!;

        var deliveries = _receiver.DeliveriesTo(name);
        Assert.True((bool)waiting["pending"]!);
        Assert.Equal("HTTP 429", (string)waiting["error"]!);
        Assert.DoesNotContain(jobId, due);
        Assert.Contains(jobId, dueThen);
        Assert.Equal([429, 200], deliveries.Select(d => d.AnsweredWith)); // one attempt: the round ended at the Retry-After
        Assert.True(deliveries[1].ReceivedAt - deliveries[0].ReceivedAt >= TimeSpan.FromSeconds(8), "the next round came no earlier than the Retry-After");
        Assert.NotNull(settled["delivered_at"]);
    }
}
