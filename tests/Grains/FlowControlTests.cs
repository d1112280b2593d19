using System.Net.Http.Json;
using Orleans.Core.Internal;
using System.Text.Json.Nodes;

namespace Praison.Orleans.Tests.Grains;

/// <summary>
/// Concurrency keys and throttles across a real 3-silo cluster (the fixture's rules: <c>two:*</c>,
/// <c>three:*</c>, <c>five:*</c>, <c>throttled:*</c>). Each test names keys of its own, so key grains
/// start fresh; the probes of one key share one ledger scope, which counts how many ran at once.
/// </summary>
[Collection(JobsClusterCollection.Name)]
public sealed class FlowControlTests(JobsClusterFixture fixture)
{
    [Fact]
    public async Task TwoHundredJobsOverThreeKeys_NoKeyEverRunsMoreThanItsLimit_AndEveryJobSucceeds()
    {
        var run = Guid.NewGuid().ToString("N");
        var keys = new (string Key, int Limit, string Scope)[]
        {
            ($"two:{run}", 2, ProbeLedger.NewScope()), ($"three:{run}", 3, ProbeLedger.NewScope()), ($"five:{run}", 5, ProbeLedger.NewScope()),
        };

        var jobs = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            var (key, _, scope) = keys[i % keys.Length];
            var job = fixture.NewJob(out _); // any silo
            var reply = await job.SubmitAsync(Specs.Probe(scope, seconds: 0.02) with { ConcurrencyKey = key });
            Assert.Equal(SubmitStatus.Accepted, reply.Status);
            return job;
        }));

        var ends = await Task.WhenAll(jobs.Select(job => job.UntilTerminal(TimeSpan.FromMinutes(3))));
        Assert.All(ends, end => Assert.Equal(JobStatus.Succeeded, end!.Status));
        for (var k = 0; k < keys.Length; k++)
        {
            var (key, limit, scope) = keys[k];
            var most = ProbeLedger.MaxRunningAtOnce(scope);
            Assert.True(most <= limit, $"{most} jobs of {key} ran at once; its limit is {limit}");
            Assert.Equal(Enumerable.Range(0, jobs.Length).Count(i => i % keys.Length == k), ProbeLedger.Runs(scope).Count); // each once
            await UntilEveryLeaseIsBackAsync(key);
        }
    }

    [Fact]
    public async Task AJobWaitingForItsKey_HoldsNoSlot_AndItsStatusSaysWhatItWaitsFor()
    {
        var (scope, key) = (ProbeLedger.NewScope(), $"user-{Guid.NewGuid():N}");
        var holder = await fixture.Http.SubmitJobAsync(Probe(scope, key, limit: 1));
        var waiting = new List<string>();
        try
        {
            await fixture.Http.UntilStatusAsync(holder, "running");
            await AJobWaitingForItsKeyAsync(scope, key, holder, waiting);
        }
        finally
        {
            foreach (var job in waiting.Prepend(holder))
            {
                // Endless probes: none may keep a slot from the tests after this one (one already ended answers 400).
                using var _ = await fixture.Http.PostAsync($"/api/v1/runs/{job}/cancel", null);
            }
        }

        Assert.Equal(1, ProbeLedger.MaxRunningAtOnce(scope));
        await UntilEveryLeaseIsBackAsync(key, JobKeys.DefaultTenant);
    }

    private async Task AJobWaitingForItsKeyAsync(string scope, string key, string holder, List<string> waiting)
    {
        // More jobs of the key than the cluster has slots: were they to hold slots while they wait, nothing else could run.
        for (var i = 0; i < JobsClusterFixture.Silos * JobsClusterFixture.SlotsPerSilo + 2; i++)
        {
            waiting.Add(await fixture.Http.SubmitJobAsync(Probe(scope, key, limit: 1)));
        }

        var other = await fixture.Http.SubmitJobAsync(new { prompt = "x", recipe_name = "echo" });
        await fixture.Http.UntilStatusAsync(other, "succeeded");

        // Each ask travels from its own silo: once all are in the key's line, it is in the order they asked.
        var keyGrain = fixture.Client.ConcurrencyKey(JobKeys.DefaultTenant, key);
        await Eventually.Until(() => CountsAsync(keyGrain), counts => counts == (1, waiting.Count), "every job of the key to wait in its line");
        var status = (await fixture.Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{waiting[^1]}"))!;
        Assert.Equal("queued", (string?)status["status"]);
        Assert.Equal("concurrency_key", (string?)status["waiting"]);
        Assert.Equal(key, (string?)status["concurrency_key"]);
        Assert.Single(ProbeLedger.Runs(scope));
        var keys = (await fixture.Http.GetFromJsonAsync<JsonObject>("/api/v1/concurrency-keys"))!;
        var listed = Assert.Single(keys["keys"]!.AsArray(), k => (string?)k!["key"] == key)!;
        Assert.Equal((1, waiting.Count, 1), ((int)listed["running"]!, (int)listed["waiting"]!, (int)listed["limit"]!)); // summed over the silos
        Assert.Equal(JobsClusterFixture.Silos, (int)keys["silos"]!);

        // The holder's end hands its lease to the first waiting job, and no other.
        await CancelAsync(holder);
        await fixture.Http.UntilStatusAsync(waiting[0], "running");
        Assert.Equal([holder, waiting[0]], ProbeLedger.Runs(scope).Select(r => r.JobId));
    }

    [Fact]
    public async Task AKeyGrainLostWhileItsLeasesAreHeld_IsRebuiltFromTheSilos_AndItsLimitStillHolds()
    {
        var (scope, key) = (ProbeLedger.NewScope(), $"rebuilt-{Guid.NewGuid():N}");
        var jobs = new List<string>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                jobs.Add(await fixture.Http.SubmitJobAsync(Probe(scope, key, limit: 1)));
            }

            await fixture.Http.UntilStatusAsync(jobs[0], "running");
            var keyGrain = fixture.Client.ConcurrencyKey(JobKeys.DefaultTenant, key);
            await Eventually.Until(() => CountsAsync(keyGrain), counts => counts == (1, 2), "one job to hold the key and two to wait"); // asks travel from their silos

            // Its counts live in memory only: a new activation must learn them from the silos' jobs.
            await keyGrain.Cast<IGrainManagementExtension>().DeactivateOnIdle();
            await Eventually.Until(() => CountsAsync(keyGrain), counts => counts == (1, 2), "the new activation to count the held lease and the two waiting");
            jobs.Add(await fixture.Http.SubmitJobAsync(Probe(scope, key, limit: 1)));
            await Eventually.Until(() => CountsAsync(keyGrain), counts => counts == (1, 3), "the new job to wait behind the others");
            Assert.Single(ProbeLedger.Runs(scope));

            await CancelAsync(jobs[0]);
            await fixture.Http.UntilStatusAsync(jobs[1], "running"); // the line kept its order
            Assert.Equal([jobs[0], jobs[1]], ProbeLedger.Runs(scope).Select(r => r.JobId));
        }
        finally
        {
            foreach (var job in jobs)
            {
                using var _ = await fixture.Http.PostAsync($"/api/v1/runs/{job}/cancel", null);
            }
        }

        Assert.Equal(1, ProbeLedger.MaxRunningAtOnce(scope));
        await UntilEveryLeaseIsBackAsync(key);
    }

    [Fact]
    public async Task AKeysWaitingJobs_StartHighestPriorityFirst_WhicheverSilosTheyAreOn()
    {
        var (scope, key) = (ProbeLedger.NewScope(), $"ordered-{Guid.NewGuid():N}");
        var holder = fixture.NewJob(out var holderId);
        var jobs = new List<IJobGrain> { holder };
        try
        {
            await holder.SubmitAsync(Specs.Probe(scope) with { ConcurrencyKey = key, ConcurrencyLimit = 1 });
            await holder.UntilStatus(JobStatus.Running);
            var priorityOf = new Dictionary<string, int>();
            foreach (var priority in new[] { 0, 9, 5 })
            {
                var job = fixture.NewJob(out var id); // any silo
                await job.SubmitAsync(Specs.Probe(scope) with { ConcurrencyKey = key, ConcurrencyLimit = 1, Priority = priority });
                (priorityOf[id], jobs) = (priority, [.. jobs, job]);
            }

            // Each ask travels from its own silo: only once all three are in line is the order the line's.
            var keyGrain = fixture.Client.ConcurrencyKey(JobKeys.DefaultTenant, key);
            await Eventually.Until(() => CountsAsync(keyGrain), counts => counts == (1, 3), "the three jobs to wait in the key's line");

            var started = new List<int>();
            var current = holder;
            for (var i = 0; i < priorityOf.Count; i++)
            {
                await current.CancelAsync();
                var runs = await Eventually.Until(() => Task.FromResult(ProbeLedger.Runs(scope)), r => r.Count == i + 2, "the next job of the key to start");
                started.Add(priorityOf[runs[^1].JobId]);
                current = jobs.Single(j => j.GetPrimaryKeyString().EndsWith(runs[^1].JobId, StringComparison.Ordinal));
            }

            Assert.Equal([9, 5, 0], started);
            Assert.Equal(holderId, ProbeLedger.Runs(scope)[0].JobId);
        }
        finally
        {
            foreach (var job in jobs)
            {
                await job.CancelAsync();
            }
        }
    }

    private static async Task<(int Running, int Waiting)> CountsAsync(IConcurrencyKeyGrain keyGrain)
    {
        var counts = await keyGrain.GetCountsAsync();
        return (counts.Running, counts.Waiting);
    }

    [Fact]
    public async Task AThrottledKey_StartsAtMostItsStartsWithinAnyPeriod()
    {
        var (scope, key) = (ProbeLedger.NewScope(), $"throttled:{Guid.NewGuid():N}"); // 5 starts per 2 s
        var jobs = await Task.WhenAll(Enumerable.Range(0, 12).Select(async _ =>
        {
            var job = fixture.NewJob(out var _);
            await job.SubmitAsync(Specs.Probe(scope, seconds: 0.01) with { ConcurrencyKey = key });
            return job;
        }));

        var ends = await Task.WhenAll(jobs.Select(job => job.UntilTerminal(TimeSpan.FromMinutes(2))));
        Assert.All(ends, end => Assert.Equal(JobStatus.Succeeded, end!.Status));
        var starts = ProbeLedger.Runs(scope).Select(r => r.StartedAt).Order().ToList();
        Assert.Equal(12, starts.Count);
        for (var i = 0; i + 5 < starts.Count; i++)
        {
            // Six starts within one 2-second window would be one too many.
            Assert.True(starts[i + 5] - starts[i] >= TimeSpan.FromSeconds(2), $"starts {i} and {i + 5} were {starts[i + 5] - starts[i]} apart");
        }

        await UntilEveryLeaseIsBackAsync(key);
    }

    [Fact]
    public async Task ABurstOfSubmitsWithOneSingletonKey_MakesOneJob_TheFirst_UntilItEnds()
    {
        var (scope, key) = (ProbeLedger.NewScope(), $"nightly-report-{Guid.NewGuid():N}");
        var body = new { prompt = "x", recipe_name = ProbeRecipe.RecipeName, recipe_config = JsonNode.Parse(ProbeLedger.Config(scope)), singleton_key = key };

        var ids = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => (i % 2 == 0 ? fixture.Http : fixture.Http2).SubmitJobAsync(body)));
        var first = Assert.Single(ids.Distinct());
        await fixture.Http.UntilStatusAsync(first, "running");
        Assert.Equal(first, await fixture.Http.SubmitJobAsync(body)); // still running: still the key's job

        await CancelAsync(first);
        var next = await fixture.Http.SubmitJobAsync(body); // ended: the next submit makes the key's next job
        Assert.NotEqual(first, next);
        await CancelAsync(next);
        Assert.Single(ProbeLedger.Runs(scope), r => r.JobId == first);
    }

    [Fact]
    public async Task ASingletonKeysWindow_AnswersWithItsJob_AfterTheJobHasEnded()
    {
        var key = $"digest-{Guid.NewGuid():N}";
        var body = new { prompt = "once", recipe_name = "echo", singleton_key = key, singleton_seconds = 3600 };
        var first = await fixture.Http.SubmitJobAsync(body);
        await fixture.Http.UntilStatusAsync(first, "succeeded");

        Assert.Equal(first, await fixture.Http.SubmitJobAsync(body));
        Assert.NotEqual(first, await fixture.Http.SubmitJobAsync(new { prompt = "once", recipe_name = "echo", singleton_key = key })); // no window: it ended
    }

    private static object Probe(string scope, string key, int limit) => new
    {
        prompt = "x",
        recipe_name = ProbeRecipe.RecipeName,
        recipe_config = JsonNode.Parse(ProbeLedger.Config(scope)),
        concurrency_key = key,
        concurrency_limit = limit,
    };

    private async Task CancelAsync(string jobId)
    {
        using var response = await fixture.Http.PostAsync($"/api/v1/runs/{jobId}/cancel", null);
        Assert.True(response.IsSuccessStatusCode, $"cancel of {jobId}: {response.StatusCode}");
    }

    private Task<KeyLeaseCounts> UntilEveryLeaseIsBackAsync(string key, string tenant = JobKeys.DefaultTenant) =>
        Eventually.Until(
            () => fixture.Client.ConcurrencyKey(tenant, key).GetCountsAsync(),
            counts => counts is { Running: 0, Waiting: 0 },
            $"every lease of {key} to be back");
}
