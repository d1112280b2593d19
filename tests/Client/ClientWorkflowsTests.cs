using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Praison.Orleans.Client;
using static Praison.Orleans.Tests.Client.ClientTesting;

namespace Praison.Orleans.Tests.Client;

/// <summary>The client's batches, schedules and concurrency keys against the real gateway on loopback.</summary>
[Collection(JobsClusterCollection.Name)]
public sealed class ClientWorkflowsTests(JobsClusterFixture fixture)
{
    [Fact]
    public async Task ABatch_IsSubmittedFollowedAndPaged_ItsThenJobGetsEveryResult_AndItIsDeleted()
    {
        using var provider = Services(fixture.Http.BaseAddress!);
        var jobs = provider.GetRequiredService<PraisonJobsClient>();
        var bodies = Enumerable.Range(0, 5).Select(i => new JobRequest($"doc {i}") { RecipeName = "echo" }).ToList();

        var batch = await jobs.SubmitBatchAsync(new BatchRequest(bodies) { Then = new JobRequest("report") { RecipeName = "echo" } });
        var seen = await ReadAllAsync(jobs.StreamBatchAsync(batch.BatchId, Timeout()));
        var ended = await jobs.WaitBatchAsync(batch.BatchId, Timeout());
        var secondPage = await jobs.GetBatchAsync(batch.BatchId, page: 2, pageSize: 2);
        var then = await jobs.WaitAsync(batch.ThenJobId!, Timeout());
        var result = (await jobs.GetResultAsync(batch.ThenJobId!)).Result!.Value.GetString()!;

        Assert.Equal(5, batch.JobIds!.Count);
        Assert.StartsWith("bat_", batch.BatchId, StringComparison.Ordinal);
        Assert.All(seen.SkipLast(1), b => Assert.False(b.IsFinished));
        Assert.Equal((JobStatuses.Succeeded, 5), (seen[^1].Status, seen[^1].Counts.Succeeded));
        Assert.Equal((JobStatuses.Succeeded, new Praison.Orleans.Client.BatchCounts(0, 0, 5, 0, 0, 0)), (ended.Status, ended.Counts));
        Assert.Equal(batch.JobIds, ended.Jobs!.Select(job => job.JobId)); // in the order given
        Assert.All(ended.Jobs!, job => Assert.Equal(batch.BatchId, job.BatchId));
        Assert.Equal(batch.JobIds.Skip(2).Take(2), secondPage.Jobs!.Select(job => job.JobId));
        Assert.Equal(JobStatuses.Succeeded, then.Status);
        Assert.All(Enumerable.Range(0, 5), i => Assert.Contains($"doc {i}", result, StringComparison.Ordinal));

        await jobs.DeleteBatchAsync(batch.BatchId);
        var gone = await Assert.ThrowsAsync<PraisonJobsException>(() => jobs.GetBatchAsync(batch.BatchId));
        Assert.Equal(HttpStatusCode.NotFound, gone.Status);
    }

    [Fact]
    public async Task ABatchSubmittedTwiceWithAKey_IsOneBatch_ItsCancelEndsIt_AndASecondCancelIsRefused()
    {
        using var provider = Services(fixture.Http.BaseAddress!);
        var jobs = provider.GetRequiredService<PraisonJobsClient>();
        var key = "client-batch-" + Guid.NewGuid().ToString("N");
        var request = new BatchRequest([Waiting(600), Waiting(600)]);

        var first = await jobs.SubmitBatchAsync(request, key);
        var repeat = await jobs.SubmitBatchAsync(request, key);
        var cancelling = await jobs.CancelBatchAsync(first.BatchId);
        var ended = await jobs.WaitBatchAsync(first.BatchId, Timeout());
        var again = await Assert.ThrowsAsync<PraisonJobsException>(() => jobs.CancelBatchAsync(first.BatchId));

        Assert.Equal(first.BatchId, repeat.BatchId);
        Assert.Equal(first.JobIds, repeat.JobIds);
        Assert.NotNull(cancelling.CancelledAt);
        Assert.Equal((JobStatuses.Cancelled, 2), (ended.Status, ended.Counts.Cancelled));
        Assert.Equal(HttpStatusCode.BadRequest, again.Status);
    }

    [Fact]
    public async Task ABatchStreamDropped_IsOpenedAgain_AndEndsWithTheEndedBatch()
    {
        var drops = new DroppingHandler(dropAfterEvents: 1);
        using var provider = Services(fixture.Http.BaseAddress!, builder => builder.AddHttpMessageHandler(() => drops));
        var jobs = provider.GetRequiredService<PraisonJobsClient>();
        // Long enough that both reconnects meet the batch live: each connection is cut after its first snapshot.
        var batch = await jobs.SubmitBatchAsync(new BatchRequest([Waiting(4), Waiting(4), Waiting(4)]));

        var seen = await ReadAllAsync(jobs.StreamBatchAsync(batch.BatchId, Timeout()));

        Assert.Equal(3, drops.LastEventIds.Count); // two cut, the third whole
        Assert.All(drops.LastEventIds, Assert.Null); // a batch's events carry all there is, and no id
        Assert.True(seen[^1].IsFinished);
        Assert.Equal((JobStatuses.Succeeded, 3), (seen[^1].Status, seen[^1].Counts.Succeeded));
    }

    [Fact]
    public async Task ASchedule_IsCreatedReadListedChangedPausedResumedTriggeredAndDeleted()
    {
        using var provider = Services(fixture.Http.BaseAddress!);
        var jobs = provider.GetRequiredService<PraisonJobsClient>();
        var id = "client-" + Guid.NewGuid().ToString("N")[..12];
        var request = new ScheduleRequest("0 2 * * *", new JobRequest("nightly review") { RecipeName = "echo" }) { ScheduleId = id, Timezone = "Europe/Berlin" };

        var created = await jobs.CreateScheduleAsync(request);
        var taken = await Assert.ThrowsAsync<PraisonJobsException>(() => jobs.CreateScheduleAsync(request));
        var badCron = await Assert.ThrowsAsync<PraisonJobsException>(() => jobs.CreateScheduleAsync(request with { ScheduleId = id + "-x", Cron = "not a cron" }));
        var listed = await ReadAllAsync(jobs.ListSchedulesAsync(pageSize: 50, Timeout()));
        var changed = await jobs.UpdateScheduleAsync(id, new ScheduleUpdate { Cron = "30 3 * * 1-5" });
        var paused = await jobs.PauseScheduleAsync(id);
        var resumed = await jobs.ResumeScheduleAsync(id);
        var triggered = await jobs.TriggerScheduleAsync(id);
        var ran = await jobs.WaitAsync(triggered.JobId, Timeout());
        var read = await jobs.GetScheduleAsync(id);

        Assert.Equal((id, "Europe/Berlin", "nightly review", false), (created.ScheduleId, created.Timezone, created.Job.Prompt, created.Paused));
        Assert.NotNull(created.NextRunAt);
        Assert.Equal(HttpStatusCode.Conflict, taken.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badCron.Status);
        Assert.Contains("cron", badCron.Errors.Keys);
        Assert.Contains(listed, schedule => schedule.ScheduleId == id);
        Assert.Equal("30 3 * * 1-5", changed.Cron);
        Assert.Equal((true, null), (paused.Paused, paused.NextRunAt));
        Assert.False(resumed.Paused);
        Assert.NotNull(resumed.NextRunAt);
        Assert.Equal((JobStatuses.Succeeded, id), (ran.Status, ran.ScheduleId));
        Assert.Equal(triggered.JobId, read.LastJobId);

        await jobs.DeleteScheduleAsync(id);
        var gone = await Assert.ThrowsAsync<PraisonJobsException>(() => jobs.GetScheduleAsync(id));
        Assert.Equal(HttpStatusCode.NotFound, gone.Status);
    }

    [Fact]
    public async Task ConcurrencyKeys_ShowAKeysRunningAndWaitingJobs_AndItsLimit()
    {
        using var provider = Services(fixture.Http.BaseAddress!);
        var jobs = provider.GetRequiredService<PraisonJobsClient>();
        var key = "client-key-" + Guid.NewGuid().ToString("N");
        var both = new[]
        {
            await jobs.SubmitAsync(Waiting(600) with { ConcurrencyKey = key, ConcurrencyLimit = 1 }),
            await jobs.SubmitAsync(Waiting(600) with { ConcurrencyKey = key, ConcurrencyLimit = 1 }),
        };

        var listed = await Eventually.Until(
            async () => (await jobs.GetConcurrencyKeysAsync()).Keys.SingleOrDefault(k => k.Key == key),
            k => k is { Running: 1, Waiting: 1 },
            "the key's lease held by one job, the other waiting", Bound);
        var statuses = await Task.WhenAll(both.Select(job => jobs.GetAsync(job.JobId)));
        foreach (var job in both)
        {
            await jobs.CancelAsync(job.JobId);
        }

        Assert.Equal(1, listed!.Limit);
        Assert.Null(listed.Throttle);
        var waiting = Assert.Single(statuses, job => job.Waiting == "concurrency_key"); // whichever asked second
        Assert.Equal((JobStatuses.Queued, key), (waiting.Status, waiting.ConcurrencyKey));
        await Eventually.Until(async () => (await jobs.GetConcurrencyKeysAsync()).Keys.Any(k => k.Key == key), listedStill => !listedStill, "the key gone once its jobs ended", Bound);
    }

    private static JobRequest Waiting(double seconds) =>
        new("") { RecipeName = "wait", RecipeConfig = new JsonObject { ["seconds"] = seconds, ["steps"] = 2 } };
}
