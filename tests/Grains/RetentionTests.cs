using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Praison.Orleans.Grains.Execution;
using Praison.Orleans.Grains.Index;
using Praison.Orleans.Grains.Jobs;

namespace Praison.Orleans.Tests.Grains;

/// <summary>A one-silo cluster that keeps finished jobs for two seconds only, and sweeps every second.</summary>
public sealed class ShortRetentionFixture : JobsClusterFixture
{
    public static readonly TimeSpan Retention = TimeSpan.FromSeconds(2);

    protected override int SiloCount => 1;

    protected override void ConfigureJobs(JobsOptions options) =>
        (options.Retention, options.SweepPeriod) = (Retention, TimeSpan.FromSeconds(1));
}

/// <summary>Retention (docs/api.md): finished jobs go after their retention, with their index entries and idempotency keys.</summary>
public sealed class RetentionTests(ShortRetentionFixture fixture) : IClassFixture<ShortRetentionFixture>
{
    [Fact]
    public async Task ExpiredJob_IsGoneFromStatusResultListStatsAndIdempotency()
    {
        var session = "retention-" + Guid.NewGuid().ToString("N");
        var key = "kept-" + Guid.NewGuid().ToString("N");
        var jobId = await fixture.Http.SubmitJobAsync(new { prompt = "short-lived", recipe_name = "echo", session_id = session, idempotency_key = key });
        var finished = await Eventually.Until(
            () => fixture.Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{jobId}"),
            s => (string?)s!["status"] == "succeeded",
            "the job to finish");
        Assert.Equal(1, (int)(await ListAsync(session))["total"]!);
        Assert.Equal(jobId, await fixture.Http.SubmitJobAsync(new { prompt = "again", recipe_name = "echo", idempotency_key = key }));
        var statsBefore = await StatsAsync();

        var expiresAt = DateTimeOffset.Parse((string)finished!["completed_at"]!) + ShortRetentionFixture.Retention;
        await Eventually.Until(
            async () => (await fixture.Http.GetAsync($"/api/v1/runs/{jobId}")).StatusCode,
            code => code == HttpStatusCode.NotFound,
            "the job to expire");

        Assert.True(DateTimeOffset.UtcNow >= expiresAt, "it was removed only once its retention ended");
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Http.GetAsync($"/api/v1/runs/{jobId}/result")).StatusCode);
        Assert.Equal(0, (int)(await ListAsync(session))["total"]!);
        Assert.Equal((int)statsBefore["total_jobs"]! - 1, (int)(await StatsAsync())["total_jobs"]!);
        Assert.NotEqual(jobId, await fixture.Http.SubmitJobAsync(new { prompt = "after", recipe_name = "echo", idempotency_key = key }));
    }

    [Fact]
    public async Task ExpiredJob_IsRemovedByTheSweepWithoutAnyoneAsking()
    {
        var job = fixture.NewJob(out var jobId);
        await job.SubmitAsync(Specs.Recipe("echo"));
        await job.UntilStatus(JobStatus.Succeeded);
        var grainId = job.GetGrainId();

        // No call after this point: only the sweep can remove its record.
        await Eventually.Until(
            () => !fixture.Store.States.Keys.Any(k => k.Grain == grainId),
            "the sweep to remove it",
            TimeSpan.FromSeconds(30));

        Assert.Null(await job.GetStatusAsync());
        var page = await fixture.Client.GetGrain<IJobQueryGrain>(0)
            .ListAsync(new JobListQuery(JobKeys.DefaultTenant, null, null, 1, 100));
        Assert.DoesNotContain(page.Jobs, j => j.JobId == jobId);
    }

    [Fact]
    public async Task IndexEntryWithNoJobBehindIt_IsDroppedByTheSweep()
    {
        // What a submit leaves when its silo dies between writing the index entry and the record.
        var session = "orphan-" + Guid.NewGuid().ToString("N");
        var orphan = new JobSnapshot(JobIds.New(), JobStatus.Queued, JobProgress.None,
            DateTimeOffset.UtcNow, null, null, "recipe:echo", session, null, 1, null);
        var index = fixture.Cluster.Silos[0].SiloHost.Services.GetRequiredService<IJobIndex>();
        await index.UpsertAsync(new JobIndexEntry(JobKeys.DefaultTenant, orphan, 1, false));
        Assert.Equal(1, (int)(await ListAsync(session))["total"]!);

        await fixture.Client.GetGrain<IJobSweeperGrain>(0).SweepAsync();

        Assert.Equal(0, (int)(await ListAsync(session))["total"]!);
        Assert.Null(await fixture.Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, orphan.JobId)).GetStatusAsync());
    }

    private async Task<JsonObject> ListAsync(string session) =>
        (await fixture.Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs?session_id={session}"))!;

    private async Task<JsonObject> StatsAsync() =>
        (await fixture.Http.GetFromJsonAsync<JsonObject>("/stats"))!["store"]!.AsObject();
}
