using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Praison.Orleans.Tests.Http;

/// <summary><c>GET /api/v1/runs</c> and <c>GET /stats</c>: cluster-wide, through the job index.</summary>
[Collection(JobsClusterCollection.Name)]
public sealed class ListAndStatsTests(JobsClusterFixture fixture)
{
    private HttpClient Http => fixture.Http;

    [Fact]
    public async Task List_200JobsOverEverySilo_PagesFiltersOrderAndDelete()
    {
        var session = "list-" + Guid.NewGuid().ToString("N");
        var scope = ProbeLedger.NewScope(); // the succeeding jobs are probes, which note the silo they ran on
        var bodies = Enumerable.Range(0, 200).Select(i => i % 4 == 0
            ? (object)new { prompt = $"job {i}", recipe_name = "wait", session_id = session, recipe_config = new { seconds = 0, steps = 1, fail = "no" } }
            : new { prompt = $"job {i}", recipe_name = "probe", session_id = session, recipe_config = new { scope, seconds = 0 } });
        var ids = new List<string>();
        foreach (var chunk in bodies.Chunk(10))
        {
            ids.AddRange(await Task.WhenAll(chunk.Select(Http.SubmitJobAsync)));
        }

        await Eventually.Until(
            async () => (int)(await ListAsync($"session_id={session}&status=succeeded&page_size=1"))["total"]!
                        + (int)(await ListAsync($"session_id={session}&status=failed&page_size=1"))["total"]!,
            done => done == 200,
            "all 200 jobs to finish");

        var pages = new List<JsonObject>();
        for (var page = 1; page <= 3; page++)
        {
            pages.Add(await ListAsync($"session_id={session}&page={page}&page_size=90"));
        }

        Assert.All(pages, p => Assert.Equal(200, (int)p["total"]!));
        Assert.Equal([90, 90, 20], pages.Select(p => p["jobs"]!.AsArray().Count));
        Assert.Equal([1, 2, 3], pages.Select(p => (int)p["page"]!));
        Assert.All(pages, p => Assert.Equal(90, (int)p["page_size"]!));
        var listed = pages.SelectMany(p => p["jobs"]!.AsArray()).Select(j => j!.AsObject()).ToList();
        Assert.Equal(ids.Order(), listed.Select(j => (string)j["job_id"]!).Order());
        var created = listed.Select(j => DateTimeOffset.Parse((string)j["created_at"]!)).ToList();
        Assert.Equal(created.OrderByDescending(c => c), created);
        Assert.Equal(150, (int)(await ListAsync($"session_id={session}&status=succeeded"))["total"]!);
        Assert.Equal(50, (int)(await ListAsync($"session_id={session}&status=failed"))["total"]!);
        Assert.Equal(0, (int)(await ListAsync($"session_id={session}&status=running"))["total"]!);
        Assert.True(ProbeLedger.Runs(scope).Select(r => r.Silo).Distinct().Count() >= 2, "the jobs ran on more than one silo");

        var deleted = ids[7];
        Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync($"/api/v1/runs/{deleted}")).StatusCode);
        var after = await ListAsync($"session_id={session}&page_size=100&page=1");
        var afterPage2 = await ListAsync($"session_id={session}&page_size=100&page=2");
        Assert.Equal(199, (int)after["total"]!);
        Assert.DoesNotContain(deleted, after["jobs"]!.AsArray().Concat(afterPage2["jobs"]!.AsArray()).Select(j => (string)j!["job_id"]!));
    }

    [Fact]
    public async Task List_RunningJob_ShowsLiveProgress()
    {
        var session = "live-" + Guid.NewGuid().ToString("N");
        var jobId = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "wait", session_id = session, recipe_config = new { seconds = 30, steps = 300 } });

        var listed = await Eventually.Until(
            async () => (await ListAsync($"session_id={session}"))["jobs"]!.AsArray().Single()!.AsObject(),
            job => (double)job["progress"]!["percentage"]! > 0,
            "the listed job to show progress");

        Assert.Equal(jobId, (string)listed["job_id"]!);
        Assert.Equal("running", (string)listed["status"]!);
        await Http.PostAsync($"/api/v1/runs/{jobId}/cancel", null);
    }

    [Theory]
    [InlineData("status=done", HttpStatusCode.BadRequest, "Invalid status: done. Valid values: ['queued', 'running', 'succeeded', 'failed', 'cancelled']")]
    [InlineData("page=0", HttpStatusCode.UnprocessableEntity, "page")]
    [InlineData("page=abc", HttpStatusCode.UnprocessableEntity, "page")]
    [InlineData("page_size=0", HttpStatusCode.UnprocessableEntity, "page_size")]
    [InlineData("page_size=101", HttpStatusCode.UnprocessableEntity, "page_size")]
    [InlineData("page=-1&page_size=x", HttpStatusCode.UnprocessableEntity, "page_size")]
    [InlineData("page=101&page_size=100", HttpStatusCode.UnprocessableEntity, "page")]
    [InlineData("page=21000000", HttpStatusCode.UnprocessableEntity, "page")]
    [InlineData("priority=101", HttpStatusCode.UnprocessableEntity, "priority")]
    [InlineData("priority=high", HttpStatusCode.UnprocessableEntity, "priority")]
    [InlineData("priority=1.5", HttpStatusCode.UnprocessableEntity, "priority")]
    public async Task List_BadQuery_IsA4xxNamingIt(string query, HttpStatusCode status, string mention)
    {
        var response = await Http.GetAsync($"/api/v1/runs?{query}");

        Assert.Equal(status, response.StatusCode);
        Assert.Contains(mention, (string)(await response.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!);
    }

    [Fact]
    public async Task List_Defaults_Page1Size20()
    {
        var body = await ListAsync("");

        Assert.Equal(1, (int)body["page"]!);
        Assert.Equal(20, (int)body["page_size"]!);
        Assert.True(body["jobs"]!.AsArray().Count <= 20);
    }

    [Fact]
    public async Task Stats_CountATenantsJobsByStatusAndKeys()
    {
        var tenant = "stats-" + Guid.NewGuid().ToString("N")[..12];
        var scope = ProbeLedger.NewScope();
        var specs = new List<JobSpec>();
        specs.AddRange(Enumerable.Range(0, 5).Select(i => Specs.Recipe("echo") with { IdempotencyKey = i < 2 ? $"key-{i}" : null }));
        specs.AddRange(Enumerable.Range(0, 2).Select(_ => Specs.Recipe("wait", """{"seconds":0,"steps":1,"fail":"x"}""")));
        specs.Add(Specs.Probe(scope) with { IdempotencyKey = "key-probe" });
        var jobs = new List<IJobGrain>();
        foreach (var spec in specs)
        {
            var job = fixture.Client.GetGrain<IJobGrain>(JobKeys.For(tenant, JobIds.New()));
            await job.SubmitAsync(spec);
            jobs.Add(job);
        }

        await Eventually.Until(() => ProbeLedger.Runs(scope).Count == 1, "the probe to run");
        var query = fixture.Client.GetGrain<IJobQueryGrain>(0);
        var stats = await Eventually.Until(
            () => query.StatsAsync(tenant),
            s => s.StatusCounts[JobStatus.Succeeded] == 5 && s.StatusCounts[JobStatus.Failed] == 2 && s.StatusCounts[JobStatus.Running] == 1,
            "the finished jobs, and the running one once its first checkpoint indexed it, to be counted");

        Assert.Equal(8, stats.TotalJobs);
        Assert.Equal(3, stats.IdempotencyKeys);
        Assert.Equal(0, stats.StatusCounts[JobStatus.Queued]);
        var otherTenant = await query.StatsAsync("nobody-" + Guid.NewGuid().ToString("N")[..8]);
        Assert.Equal(0, otherTenant.TotalJobs);
        await jobs[^1].CancelAsync();
    }

    [Fact]
    public async Task Stats_Http_HasExecutorAndStoreSections()
    {
        await Http.SubmitJobAsync(new { prompt = "x", recipe_name = "echo" });

        var body = (await Http.GetFromJsonAsync<JsonObject>("/stats"))!;

        Assert.Equal(JobsClusterFixture.Silos * JobsClusterFixture.SlotsPerSilo, (int)body["executor"]!["max_concurrent"]!);
        var store = body["store"]!;
        Assert.True((int)store["total_jobs"]! >= 1);
        Assert.True((int)store["idempotency_keys"]! >= 0);
        var counts = store["status_counts"]!.AsObject();
        Assert.Equal(["queued", "running", "succeeded", "failed", "cancelled"], counts.Select(c => c.Key));
        Assert.Equal((int)store["total_jobs"]!, counts.Sum(c => (int)c.Value!));
    }

    private async Task<JsonObject> ListAsync(string query)
    {
        var response = await Http.GetAsync($"/api/v1/runs?{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

}
