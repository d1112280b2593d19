using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Praison.Orleans.Grains.Jobs;

namespace Praison.Orleans.Tests.Grains;

/// <summary>
/// The commit rule under injected storage faults (<see cref="StorageFaults"/>): a write caught in
/// flight, refused, or committed and then reported as failed. Whatever storage does, a client sees only
/// what storage holds, a job ends exactly once, a finished job never runs again, and every watcher
/// gets its final event. The same tests on memory storage and on PostgreSQL (the derived classes below).
/// </summary>
public abstract class StorageFaultTests(JobsClusterFixture fixture)
{
    private static readonly Func<JobRecord, bool> Succeeded = r => r.Status == JobStatus.Succeeded;
    private static readonly Func<JobRecord, bool> Cancelled = r => r.Status == JobStatus.Cancelled;

    [Fact]
    public async Task SuccessWriteInFlight_NobodySeesSucceededUntilItIsStored()
    {
        var scope = ProbeLedger.NewScope();
        var job = fixture.NewJob(out var jobId);
        var held = StorageFaults.OnWrite(jobId, Succeeded, StorageFault.Hold);
        await job.SubmitAsync(Specs.Probe(scope, seconds: 0.05));
        var events = Collect(job.WatchAsync(0));

        await held.Reached.WaitAsync(Eventually.DefaultTimeout);

        var status = await job.GetStatusAsync();
        Assert.Equal(JobStatus.Running, status!.Status);
        Assert.Equal(JobCommandStatus.WrongState, (await job.GetResultAsync()).Status);
        Assert.Equal(JobCommandStatus.WrongState, (await job.DeleteAsync()).Status);
        Assert.False(events.IsCompleted);

        held.Release();

        var seen = await events.WaitAsync(Eventually.DefaultTimeout);
        Assert.Equal(JobEventKind.Result, seen[^1].Kind);
        Assert.Equal(JobCommandStatus.Done, (await job.GetResultAsync()).Status);
    }

    [Fact]
    public async Task AReportTheWorkMakesWhileItsTimeoutIsBeingStored_IsNotPublishedAfterTheEnd()
    {
        var scope = ProbeLedger.NewScope();
        var job = fixture.NewJob(out var jobId);
        var held = StorageFaults.OnWrite(jobId, r => r.Status == JobStatus.Failed, StorageFault.Hold);
        await job.SubmitAsync(Specs.Probe(scope, timeoutSeconds: 1, reportOnCancel: true));
        var events = Collect(job.WatchAsync(0));

        await held.Reached.WaitAsync(Eventually.DefaultTimeout); // the timeout's write, held
        await Eventually.Until(() => ProbeLedger.Runs(scope)[0].ReportedAfterCancelAt is not null, "the work to report as its token fired");
        held.Release(); // the report was posted to the grain before the write's continuation

        var seen = await events.WaitAsync(Eventually.DefaultTimeout);
        Assert.Equal(JobEventKind.Error, seen[^1].Kind);
        Assert.Equal(seen.Select(e => e.Id).Order(), seen.Select(e => e.Id)); // never backwards
        Assert.DoesNotContain(seen, e => e.Step == "reported after the token fired");
        Assert.Equal([seen[^1]], await Collect(job.WatchAsync(seen[^2].Id))); // a reconnect gets the end
        Assert.Equal(seen, await Collect(job.WatchAsync(0))); // and a new stream the same sequence
    }

    [Fact]
    public async Task SuccessWriteRefused_IsRetriedHoldingTheOutcome_AndTheJobRunsOnce()
    {
        var scope = ProbeLedger.NewScope();
        var job = fixture.NewJob(out var jobId);
        var refused = StorageFaults.OnWrite(jobId, Succeeded, StorageFault.Fail, times: 3);

        await job.SubmitAsync(Specs.Probe(scope, seconds: 0.05, maxAttempts: 1));
        var done = await job.UntilTerminal();

        Assert.Equal(3, refused.Hits);
        Assert.Equal(JobStatus.Succeeded, done!.Status);
        Assert.Equal(1, done.Attempt);
        Assert.Single(ProbeLedger.Runs(scope));
        Assert.Equal($"probe {jobId} done", (await job.GetResultAsync()).Outcome!.ResultJson!.Trim('"'));
    }

    [Fact]
    public async Task SuccessWriteCommittedThenReportedFailed_EndsOnce_WatchersAndIndexSeeIt()
    {
        var scope = ProbeLedger.NewScope();
        var session = "ambiguous-" + scope;
        var job = fixture.NewJob(out var jobId);
        var ambiguous = StorageFaults.OnWrite(jobId, Succeeded, StorageFault.FailAfterCommit);
        await job.SubmitAsync(Specs.Recipe(ProbeRecipe.RecipeName, ProbeLedger.Config(scope, seconds: 0.05), sessionId: session));
        var events = Collect(job.WatchAsync(0));

        var seen = await events.WaitAsync(Eventually.DefaultTimeout);

        Assert.Equal(1, ambiguous.Hits);
        Assert.Equal(JobEventKind.Result, seen[^1].Kind);
        Assert.Single(seen, e => e.IsFinal);
        var status = await job.GetStatusAsync();
        Assert.Equal((JobStatus.Succeeded, 1), (status!.Status, status.Attempt));
        Assert.Single(ProbeLedger.Runs(scope));
        var listed = await Eventually.Until(
            () => fixture.Client.GetGrain<IJobQueryGrain>(0).ListAsync(new JobListQuery(JobKeys.DefaultTenant, null, session, 1, 10)),
            page => page.Jobs is [{ Status: JobStatus.Succeeded }],
            "the index to list the job as succeeded");
        Assert.Equal(jobId, listed.Jobs[0].JobId);
    }

    [Fact]
    public async Task RunningWriteRefused_IsRetriedInPlace_AndTheJobRunsOnceAsAttempt1()
    {
        var scope = ProbeLedger.NewScope();
        var job = fixture.NewJob(out var jobId);
        var refused = StorageFaults.OnWrite(jobId, r => r.Status == JobStatus.Running && r.Attempt == 1, StorageFault.Fail, times: 2);

        await job.SubmitAsync(Specs.Probe(scope, seconds: 0.05, maxAttempts: 1));
        var done = await job.UntilTerminal();

        Assert.Equal(2, refused.Hits);
        Assert.Equal((JobStatus.Succeeded, 1), (done!.Status, done.Attempt));
        Assert.Single(ProbeLedger.Runs(scope));
    }

    [Fact]
    public async Task ProgressCheckpointsRefused_TheJobStillEndsWithItsProgress()
    {
        var job = fixture.NewJob(out var jobId);
        var refused = StorageFaults.OnWrite(jobId, r => r is { Status: JobStatus.Running, Progress.Percentage: > 0 }, StorageFault.Fail, times: 100);

        await job.SubmitAsync(Specs.Recipe("wait", """{"seconds":3,"steps":6}""")); // checkpoints every 200 ms meanwhile
        var done = await job.UntilTerminal();

        Assert.True(refused.Hits > 0, "a checkpoint was attempted");
        Assert.Equal((JobStatus.Succeeded, 100d, 1), (done!.Status, done.Progress.Percentage, done.Attempt)); // not handed over
    }

    [Fact]
    public async Task CancelWriteCommittedThenReportedFailed_StillStopsTheWork()
    {
        var scope = ProbeLedger.NewScope();
        var job = fixture.NewJob(out var jobId);
        await job.SubmitAsync(Specs.Probe(scope));
        await Eventually.Until(() => ProbeLedger.Runs(scope).Count == 1, "the probe to start");
        var ambiguous = StorageFaults.OnWrite(jobId, Cancelled, StorageFault.FailAfterCommit);

        var reply = await job.CancelAsync();

        Assert.Equal(1, ambiguous.Hits);
        Assert.Equal((JobCommandStatus.Done, JobStatus.Cancelled), (reply.Status, reply.Job!.Status));
        await Eventually.Until(() => ProbeLedger.Runs(scope)[0].ReturnedAt is not null, "the work to stop");
        Assert.Equal(JobStatus.Cancelled, (await job.GetStatusAsync())!.Status);
    }

    [Fact]
    public async Task CancelWriteRefused_Is503AndTheJobRunsOn()
    {
        var scope = ProbeLedger.NewScope();
        var jobId = await fixture.Http.SubmitJobAsync(new { prompt = "p", recipe_name = ProbeRecipe.RecipeName, recipe_config = JsonNode.Parse(ProbeLedger.Config(scope)) });
        await Eventually.Until(() => ProbeLedger.Runs(scope).Count == 1, "the probe to start");
        StorageFaults.OnWrite(jobId, Cancelled, StorageFault.Fail);

        var refused = await fixture.Http.PostAsync($"/api/v1/runs/{jobId}/cancel", null);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType!.MediaType);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal("running", (string)(await fixture.Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{jobId}"))!["status"]!);
        Assert.Null(ProbeLedger.Runs(scope)[0].CancelObservedAt);

        var retried = await fixture.Http.PostAsync($"/api/v1/runs/{jobId}/cancel", null);

        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        await Eventually.Until(() => ProbeLedger.Runs(scope)[0].ReturnedAt is not null, "the work to stop");
    }

    [Fact]
    public async Task DeleteRacingAResubmitOfItsIdempotencyKey_BothAnswer()
    {
        // DELETE holds the job while it frees the key; the resubmit holds the key while it asks the job.
        var key = "race-" + ProbeLedger.NewScope();
        var first = await SubmitWithKeyAsync(key);
        await fixture.Http.UntilStatusAsync(first, "succeeded");
        var held = StorageFaults.OnClear(first, StorageFault.Hold);
        var delete = fixture.Http.DeleteAsync($"/api/v1/runs/{first}");
        await held.Reached.WaitAsync(Eventually.DefaultTimeout);
        var asked = GrainCalls.Sent(nameof(IJobGrain.GetStatusAsync), first);
        var resubmit = fixture.Http.PostAsJsonAsync("/api/v1/runs", new { prompt = "again", recipe_name = "echo", idempotency_key = key });
        await asked.WaitAsync(Eventually.DefaultTimeout); // the key's grain now waits on the job, which is in its delete

        held.Release();

        Assert.Equal(HttpStatusCode.NoContent, (await delete).StatusCode);
        var resubmitted = await resubmit;
        Assert.Equal(HttpStatusCode.Accepted, resubmitted.StatusCode);
        Assert.NotEqual(first, (string)(await resubmitted.Content.ReadFromJsonAsync<JsonObject>())!["job_id"]!);
    }

    [Fact]
    public async Task RemovalCommittedThenReportedFailed_TheJobIsGone()
    {
        var job = fixture.NewJob(out var jobId);
        await job.SubmitAsync(Specs.Recipe("echo"));
        await job.UntilStatus(JobStatus.Succeeded);
        var ambiguous = StorageFaults.OnClear(jobId, StorageFault.FailAfterCommit);

        var reply = await job.DeleteAsync();

        Assert.Equal(1, ambiguous.Hits);
        Assert.Equal(JobCommandStatus.Done, reply.Status);
        Assert.Null(await job.GetStatusAsync());
    }

    [Fact]
    public async Task SubmitWriteRefused_IsRefusedAndLeavesNoJob()
    {
        var job = fixture.NewJob(out var jobId);
        StorageFaults.OnWrite(jobId, r => r.Status == JobStatus.Queued, StorageFault.Fail);

        await Assert.ThrowsAsync<JobStorageException>(() => job.SubmitAsync(Specs.Recipe("echo")));

        Assert.Null(await job.GetStatusAsync());
        var again = await job.SubmitAsync(Specs.Recipe("echo"));
        Assert.Equal(SubmitStatus.Accepted, again.Status);
        Assert.Equal(JobStatus.Succeeded, (await job.UntilTerminal())!.Status);
    }

    [Fact]
    public async Task DeleteWhoseIndexRemovalIsLost_IsNeitherListedNorCounted()
    {
        var session = "lost-removal-" + ProbeLedger.NewScope();
        var jobId = await fixture.Http.SubmitJobAsync(new { prompt = "x", recipe_name = "echo", session_id = session });
        await fixture.Http.UntilStatusAsync(jobId, "succeeded");
        var before = await StatsAsync();
        IndexFaults.FailRemoval(jobId);

        var deleted = await fixture.Http.DeleteAsync($"/api/v1/runs/{jobId}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var listed = await fixture.Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs?session_id={session}");
        Assert.Equal(0, (int)listed!["total"]!);
        Assert.Equal(before - 1, await StatsAsync());
    }

    private async Task<int> StatsAsync() =>
        (int)(await fixture.Http.GetFromJsonAsync<JsonObject>("/stats"))!["store"]!["total_jobs"]!;

    public static TheoryData<JobStatus, StorageFault> EveryTransitionThroughEachFault()
    {
        var cases = new TheoryData<JobStatus, StorageFault>();
        foreach (var transition in new[] { JobStatus.Queued, JobStatus.Running, JobStatus.Succeeded, JobStatus.Cancelled })
        {
            foreach (var fault in Enum.GetValues<StorageFault>())
            {
                cases.Add(transition, fault);
            }
        }

        return cases;
    }

    /// <summary>
    /// The write of <paramref name="transition"/> meets <paramref name="fault"/>. Whatever it is: the job
    /// ends once, as asked (cancelled when cancelled, else succeeded); its work ran once; a watcher from
    /// the start gets exactly one final event, the right one; the index lists it as it is; and its
    /// webhook is delivered with that status.
    /// </summary>
    [Theory]
    [MemberData(nameof(EveryTransitionThroughEachFault))]
    public async Task EveryTransition_ThroughEachFault_KeepsEveryPromise(JobStatus transition, StorageFault fault)
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var scope = ProbeLedger.NewScope();
        var session = "faults-" + scope;
        var cancel = transition == JobStatus.Cancelled;
        var job = fixture.NewJob(out var jobId);
        var spec = Specs.Recipe(ProbeRecipe.RecipeName, ProbeLedger.Config(scope, seconds: cancel ? null : 0.2), sessionId: session)
            with { WebhookUrl = receiver.UrlFor(jobId) };
        var rule = StorageFaults.OnWrite(jobId, r => r.Status == transition, fault);

        // A held submit or cancel holds its own request (the grain serves one at a time): nothing to look
        // at meanwhile. A held write of the run loop leaves requests free: the job still shows its last state.
        var submitting = Until(() => job.SubmitAsync(spec), reply => reply.Status == SubmitStatus.Accepted);
        if (transition == JobStatus.Queued)
        {
            await ReleaseWhenHeldAsync(rule, job, null);
        }

        await submitting;
        var events = Collect(job.WatchAsync(0));
        if (cancel)
        {
            await Eventually.Until(() => ProbeLedger.Runs(scope).Count == 1, "the probe to start");
            var cancelled = Until(() => job.CancelAsync(), reply => reply.Status != JobCommandStatus.NotFound);
            await ReleaseWhenHeldAsync(rule, job, null);
            Assert.Equal(JobStatus.Cancelled, (await cancelled).Job!.Status);
        }
        else if (transition != JobStatus.Queued)
        {
            await ReleaseWhenHeldAsync(rule, job, transition == JobStatus.Running ? JobStatus.Queued : JobStatus.Running);
        }

        var expected = cancel ? JobStatus.Cancelled : JobStatus.Succeeded;
        var done = await job.UntilTerminal();
        Assert.Equal(1, rule.Hits);
        Assert.Equal((expected, 1), (done!.Status, done.Attempt));
        Assert.Single(ProbeLedger.Runs(scope));
        var seen = await events.WaitAsync(Eventually.DefaultTimeout);
        Assert.Equal(expected, Assert.Single(seen, e => e.IsFinal).Status);
        await Eventually.Until(
            () => fixture.Client.GetGrain<IJobQueryGrain>(0).ListAsync(new JobListQuery(JobKeys.DefaultTenant, null, session, 1, 10)),
            page => page.Jobs is [{ } listed] && listed.Status == expected,
            "the index to list the job as it ended");
        var delivered = await Eventually.Until(
            () => Task.FromResult(receiver.DeliveriesTo(jobId)), deliveries => deliveries.Any(d => d.AnsweredWith == 200), "the webhook");
        Assert.All(delivered, d => Assert.Equal(expected.ToWireName(), (string)JsonNode.Parse(d.Body)!["status"]!));
    }

    /// <summary>For a held write: while it is in flight the job still shows <paramref name="before"/> (null: no job yet); then lets it go.</summary>
    private static async Task ReleaseWhenHeldAsync(FaultRule rule, IJobGrain job, JobStatus? before)
    {
        if (rule.Fault != StorageFault.Hold)
        {
            return;
        }

        await rule.Reached.WaitAsync(Eventually.DefaultTimeout);
        if (before is { } status)
        {
            Assert.Equal(status, (await job.GetStatusAsync())!.Status);
        }

        rule.Release();
    }

    /// <summary>Calls <paramref name="call"/> until it answers without a storage failure and <paramref name="done"/> holds.</summary>
    private static Task<T> Until<T>(Func<Task<T>> call, Func<T, bool> done) =>
        Eventually.Until(
            async () =>
            {
                try
                {
                    return (Ok: true, Value: await call());
                }
                catch (JobStorageException)
                {
                    return (Ok: false, Value: default(T)!);
                }
            },
            answer => answer.Ok && done(answer.Value),
            "a call storage takes").ContinueWith(t => t.Result.Value, TaskScheduler.Default);

    private async Task<string> SubmitWithKeyAsync(string key) =>
        await fixture.Http.SubmitJobAsync(new { prompt = "once", recipe_name = "echo", idempotency_key = key });

    private static async Task<List<JobEvent>> Collect(IAsyncEnumerable<JobEvent> events)
    {
        var seen = new List<JobEvent>();
        await foreach (var e in events)
        {
            seen.Add(e);
        }

        return seen;
    }
}

[Collection(JobsClusterCollection.Name)]
public sealed class MemoryStorageFaultTests(JobsClusterFixture fixture) : StorageFaultTests(fixture);

[Collection(PostgresJobsClusterCollection.Name)]
[Trait("Category", "Storage")]
public sealed class PostgresStorageFaultTests(PostgresJobsClusterFixture fixture) : StorageFaultTests(fixture);
