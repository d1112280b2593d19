using System.Text.Json;
using Orleans.Runtime.Placement;
using Orleans.TestingHost;
using Praison.Orleans.Grains.Jobs;

namespace Praison.Orleans.Tests.Grains;

/// <summary>
/// Jobs on a durable store, the same tests on each (<see cref="AzureDurableStorageTests"/>,
/// <see cref="PostgresDurableStorageTests"/>): large results, an ambiguous write, a killed silo, a full restart.
/// </summary>
public abstract class DurableStorageTests(DurableClusterFixture fixture)
{
    [Fact]
    public async Task FiveMegabyteResult_IsStoredAndReadBackIntact()
    {
        await using var cluster = await fixture.StartClusterAsync(NewServiceId(), silos: 1);
        var jobId = JobIds.New();
        var job = cluster.Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, jobId));
        const int size = 5 * 1024 * 1024;

        await job.SubmitAsync(Specs.Recipe(BigRecipe.RecipeName, $$"""{"bytes":{{size}}}"""));
        await job.UntilStatus(JobStatus.Succeeded);
        await cluster.DeactivateAsync(job); // the next call reads the record back from storage

        var result = await job.GetResultAsync();
        Assert.Equal(BigRecipe.Pattern(size), JsonSerializer.Deserialize<string>(result.Outcome!.ResultJson!));
    }

    [Fact]
    public async Task AJobWhoseTextsEscapePastATableRow_EndsFailed_CountedListedAndDeletable()
    {
        // An agent_file of 5,000 '<' is accepted (a missing file fails the job); its agent id and error,
        // escaped six characters each, once made an index row the table refused: the row stayed queued.
        await using var cluster = await fixture.StartClusterAsync(NewServiceId(), silos: 1);
        var tenant = "rows-" + Guid.NewGuid().ToString("N")[..8];
        var job = cluster.Client.GetGrain<IJobGrain>(JobKeys.For(tenant, JobIds.New()));
        var query = cluster.Client.GetGrain<IJobQueryGrain>(0);

        Assert.Equal(SubmitStatus.Accepted, (await job.SubmitAsync(Specs.PromptOnly("x") with { AgentFile = new string('<', 5_000) })).Status);
        var failed = await job.UntilStatus(JobStatus.Failed);
        var counted = await Eventually.Until(() => query.StatsAsync(tenant), stats => stats.StatusCounts[JobStatus.Failed] == 1, "the index to count it failed");
        var listed = await query.ListAsync(new JobListQuery(tenant, JobStatus.Failed, null, 1, 10));
        var deleted = await job.DeleteAsync();

        Assert.StartsWith("agent_file not found: <<<", failed!.Error, StringComparison.Ordinal);
        Assert.Equal((0, 0), (counted.StatusCounts[JobStatus.Queued], counted.StatusCounts[JobStatus.Running]));
        Assert.Equal(0, await query.LiveCountAsync(tenant));
        Assert.Equal(job.GetPrimaryKeyString().Split('/')[^1], Assert.Single(listed.Jobs).JobId);
        Assert.Equal(JobCommandStatus.Done, deleted.Status);
        Assert.Equal(0, (await query.StatsAsync(tenant)).TotalJobs);
    }

    [Fact]
    public async Task SuccessWriteCommittedThenReportedFailed_EndsOnceWithoutAConflictLoop()
    {
        // The grain keeps the old ETag, as when a reply is lost: its next write would conflict forever
        // (a 412 on a blob, no row of that revision in PostgreSQL) unless it reads the record back.
        await using var cluster = await fixture.StartClusterAsync(NewServiceId(), silos: 1, sweepPeriod: TimeSpan.FromHours(1));
        var jobId = JobIds.New();
        var job = cluster.Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, jobId));
        var ambiguous = StorageFaults.OnWrite(jobId, r => r.Status == JobStatus.Succeeded, StorageFault.FailAfterCommit);

        await job.SubmitAsync(Specs.Recipe("wait", """{"seconds":0.2,"steps":1}"""));
        var finalEvent = FinalEventAsync(job);
        var done = await job.UntilTerminal();
        var deleted = await job.DeleteAsync(); // a write after the ambiguous one: needs the fresh ETag

        Assert.Equal(1, ambiguous.Hits);
        Assert.Equal(JobEventKind.Result, (await finalEvent.WaitAsync(Eventually.DefaultTimeout)).Kind);
        Assert.Equal((JobStatus.Succeeded, 1), (done!.Status, done.Attempt));
        Assert.Equal(JobCommandStatus.Done, deleted.Status);
        Assert.Null(await job.GetStatusAsync());
    }

    [Fact]
    public async Task ABatch_IsStoredWithWhatItLearnt_AndItsJobsAreListedByIt()
    {
        await using var cluster = await fixture.StartClusterAsync(NewServiceId(), silos: 1);
        var tenant = "batch-" + Guid.NewGuid().ToString("N")[..8];
        var batch = cluster.Client.Batch(tenant, JobIds.NewBatch());
        var created = await batch.CreateAsync(new BatchSpec([Specs.Recipe("echo", prompt: "a"), Specs.Recipe("echo", prompt: "b"), Specs.Recipe("echo", prompt: "c")], Specs.Recipe("echo", prompt: "then")));
        Assert.Equal(BatchCommandStatus.Done, created.Status);
        var batchId = created.Batch!.BatchId;
        await Eventually.Until(batch.GetAsync, b => b?.CompletedAt is not null, "the batch ended");
        var then = cluster.Client.Job(tenant, created.Batch.ThenJobId!);
        Assert.Equal(JobStatus.Succeeded, (await then.UntilTerminal())!.Status);

        await cluster.DeactivateAsync(batch); // read back from storage
        var stored = await batch.GetAsync();
        Assert.Equal((JobStatus.Succeeded, new BatchCounts(0, 0, 3, 0, 0, 0)), (stored!.Status, stored.Counts));
        var jobIds = (await batch.JobIdsAsync(0, 10))!;
        var listed = await Eventually.Until(
            () => cluster.Client.GetGrain<IJobQueryGrain>(0).ListAsync(new JobListQuery(tenant, null, null, 1, 20, BatchId: batchId)),
            page => page.Total == 3, "the batch's jobs listed by it");
        Assert.Equal(jobIds.Order(), listed.Jobs.Select(job => job.JobId).Order());
        Assert.All(listed.Jobs, job => Assert.Equal(batchId, job.BatchId));
        Assert.Equal(0, (await cluster.Client.GetGrain<IJobQueryGrain>(0).ListAsync(new JobListQuery(tenant, null, null, 1, 20, BatchId: JobIds.NewBatch()))).Total);
    }

    /// <summary>
    /// A batch lost while it creates its jobs is read back from its record — every spec, and its then
    /// job's, whose <c>depends_on</c> a collection expression made (Orleans' JSON once named that
    /// compiler-made list's type and could not make it again: the record could not be read) — and it
    /// goes on, creating each job once.
    /// </summary>
    [Fact]
    public async Task ABatchLostMidCreation_IsReadBackFromItsRecord_AndCreatesEachJobOnce()
    {
        await using var cluster = await fixture.StartClusterAsync(NewServiceId(), silos: 1);
        var scope = ProbeLedger.NewScope();
        var parentId = JobIds.New();
        var parent = cluster.Client.Job(JobKeys.DefaultTenant, parentId);
        await parent.SubmitAsync(Specs.Probe(scope, seconds: 0));
        await parent.UntilStatus(JobStatus.Succeeded);
        // One job's creation is held (its parent's write of it as a dependant): the batch is mid-creation when it is lost.
        var held = StorageFaults.OnWrite(parentId, record => record.Dependants is { Length: > 0 }, StorageFault.Hold);
        var batch = cluster.Client.Batch(JobKeys.DefaultTenant, JobIds.NewBatch());
        var jobs = Enumerable.Range(0, 20).Select(i => i == 10 ? Specs.Probe(scope, seconds: 0) with { DependsOn = [parentId] } : Specs.Probe(scope, seconds: 0));
        var created = (await batch.CreateAsync(new BatchSpec([.. jobs], Specs.Probe(scope, seconds: 0)))).Batch!;
        await held.Reached.WaitAsync(Eventually.DefaultTimeout);

        await cluster.DeactivateAsync(batch);
        held.Release();

        var ended = await Eventually.Until(batch.GetAsync, b => b?.CompletedAt is not null, "the batch read back, created and ended");
        Assert.Equal(new BatchCounts(0, 0, 20, 0, 0, 0), ended!.Counts);
        var then = cluster.Client.Job(JobKeys.DefaultTenant, created.ThenJobId!);
        Assert.Equal(JobStatus.Succeeded, (await then.UntilTerminal())!.Status);
        await cluster.DeactivateAsync(then);
        Assert.Equal([created.BatchId], (await then.GetStatusAsync())!.DependsOn); // its record read back too
        var runs = ProbeLedger.Runs(scope);
        Assert.Equal(22, runs.Count); // the parent, 20 jobs, the then job: none twice
        Assert.All(runs, run => Assert.Equal(1, run.Attempt));
    }

    [Fact]
    public async Task List_FiltersByPriority_TheDefaultIncluded()
    {
        await using var cluster = await fixture.StartClusterAsync(NewServiceId(), silos: 1);
        var tenant = "prio-" + Guid.NewGuid().ToString("N")[..8];
        foreach (var priority in new[] { 0, 5, 5, -3 })
        {
            var job = cluster.Client.Job(tenant, JobIds.New());
            await job.SubmitAsync(Specs.Recipe("echo") with { Priority = priority });
            await job.UntilStatus(JobStatus.Succeeded);
        }

        var lists = cluster.Client.GetGrain<IJobQueryGrain>(0);
        foreach (var (priority, count) in new[] { (5, 2), (0, 1), (-3, 1), (9, 0) })
        {
            var page = await Eventually.Until(
                () => lists.ListAsync(new JobListQuery(tenant, null, null, 1, 20, Priority: priority)),
                page => page.Total == count,
                $"{count} jobs listed at priority {priority}");
            Assert.Equal(count, page.Jobs.Count);
            Assert.All(page.Jobs, job => Assert.Equal(priority, job.Priority));
        }
    }

    [Fact]
    public async Task KilledSilo_ItsRunningJobResumesElsewhereAsAttempt2()
    {
        await using var cluster = await fixture.StartClusterAsync(NewServiceId(), silos: 2);
        var (job, doomed) = await StartWaitJobOnLastSiloAsync(cluster, maxAttempts: 0);
        var seen = new List<double>();

        await cluster.KillSiloAsync(doomed);
        var done = await Eventually.Until(
            async () =>
            {
                var status = await SiloLoss.UnlessItMetTheDeadSilo(job.GetStatusAsync);
                if (status is not null)
                {
                    seen.Add(status.Progress.Percentage);
                }

                return status;
            },
            s => s is not null && s.Status.IsTerminal(),
            "the job to finish on the surviving silo",
            TimeSpan.FromSeconds(60));

        Assert.Equal(JobStatus.Succeeded, done!.Status);
        Assert.Equal(2, done.Attempt);
        Assert.Equal(seen.Order(), seen);
        Assert.Equal(100, done.Progress.Percentage);
    }

    [Fact]
    public async Task KilledSilo_WithOneAttemptAllowed_FailsAsInterrupted()
    {
        await using var cluster = await fixture.StartClusterAsync(NewServiceId(), silos: 2);
        var (job, doomed) = await StartWaitJobOnLastSiloAsync(cluster, maxAttempts: 1);

        await cluster.KillSiloAsync(doomed);
        var done = await job.UntilTerminalAfterSiloLoss(TimeSpan.FromSeconds(60));

        Assert.Equal(JobStatus.Failed, done!.Status);
        Assert.Equal("Interrupted: attempts exhausted (1)", done.Error);
    }

    [Fact]
    public async Task KilledSilo_ItsJobIsResumedByTheSweepWithoutAnyCall()
    {
        await using var cluster = await fixture.StartClusterAsync(NewServiceId(), silos: 2);
        var scope = ProbeLedger.NewScope();
        var doomed = cluster.Silos[^1];
        var job = cluster.Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, JobIds.New()));
        await SubmitOnAsync(job, doomed, Specs.Probe(scope, seconds: 1));
        await Eventually.Until(() => ProbeLedger.Runs(scope).Count == 1, "the first attempt to start");

        await cluster.KillSiloAsync(doomed);

        // Nobody calls the job: only the sweep (its reminder now served by the surviving silo) can restart it.
        var second = await Eventually.Until(
            () => Task.FromResult(ProbeLedger.Runs(scope)), runs => runs.Count == 2, "the sweep to start attempt 2", TimeSpan.FromSeconds(90));
        Assert.Equal(2, second[1].Attempt);
        Assert.NotEqual(doomed.SiloAddress.ToParsableString(), second[1].Silo);
        Assert.Equal(JobStatus.Succeeded, (await job.UntilTerminalAfterSiloLoss(Eventually.DefaultTimeout))!.Status);
    }

    [Fact]
    public async Task KilledSilo_ADelayedJobWaitingOnIt_StillRunsOnceAfterItsTime()
    {
        await using var cluster = await fixture.StartClusterAsync(NewServiceId(), silos: 2);
        var scope = ProbeLedger.NewScope();
        var doomed = cluster.Silos[^1];
        var job = cluster.Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, JobIds.New()));
        var runAt = DateTimeOffset.UtcNow.AddSeconds(8);
        await SubmitOnAsync(job, doomed, Specs.Probe(scope, seconds: 0.2) with { RunAt = runAt });

        await cluster.KillSiloAsync(doomed);

        // Nobody calls the job: the sweep before its time wakes it on the surviving silo to wait the rest.
        var done = await job.UntilTerminalAfterSiloLoss(TimeSpan.FromSeconds(90));
        Assert.Equal(JobStatus.Succeeded, done!.Status);
        Assert.Equal(1, done.Attempt); // it never started on the lost silo
        Assert.True(done.StartedAt >= runAt, $"started {done.StartedAt:O}, before its time {runAt:O}");
        var run = Assert.Single(ProbeLedger.Runs(scope));
        Assert.NotEqual(doomed.SiloAddress.ToParsableString(), run.Silo);
    }

    [Fact]
    public async Task KilledSilo_ACancelThatWakesItsJob_CancelsItWithoutStartingAnotherAttempt()
    {
        // No sweep: the cancel is the call that wakes the job on the surviving silo.
        await using var cluster = await fixture.StartClusterAsync(NewServiceId(), silos: 2, sweepPeriod: TimeSpan.FromHours(1));
        var scope = ProbeLedger.NewScope();
        var doomed = cluster.Silos[^1];
        var job = cluster.Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, JobIds.New()));
        await SubmitOnAsync(job, doomed, Specs.Probe(scope));
        await Eventually.Until(() => ProbeLedger.Runs(scope).Count == 1, "the first attempt to start");

        await cluster.KillSiloAsync(doomed);
        var reply = await Eventually.Until(
            () => SiloLoss.UnlessItMetTheDeadSilo(job.CancelAsync),
            r => r is not null,
            "a cancel to reach the job",
            TimeSpan.FromSeconds(60));

        Assert.Equal((JobCommandStatus.Done, JobStatus.Cancelled, 1), (reply!.Status, reply.Job!.Status, reply.Job.Attempt));
        Assert.Single(ProbeLedger.Runs(scope));
    }

    [Fact]
    public async Task GracefulSiloShutdown_HandsItsJobOnInsteadOfCancellingIt()
    {
        await using var cluster = await fixture.StartClusterAsync(NewServiceId(), silos: 2);
        var (job, leaving) = await StartWaitJobOnLastSiloAsync(cluster, maxAttempts: 0);

        await cluster.StopSiloAsync(leaving);
        var done = await job.UntilTerminal(TimeSpan.FromSeconds(60));

        Assert.Equal(JobStatus.Succeeded, done!.Status);
        Assert.Equal(2, done.Attempt);
        Assert.Null(done.CancelledAt);
    }

    [Fact]
    public async Task FullRestart_KeepsEveryJobResultKeyAndListEntry_AndResumesLiveOnes()
    {
        var serviceId = NewServiceId();
        var scope = ProbeLedger.NewScope();
        var (finished, failed, cancelled, running, queued) = (JobIds.New(), JobIds.New(), JobIds.New(), JobIds.New(), JobIds.New());
        var keyed = JobKeys.ForIdempotencyKey(JobKeys.DefaultTenant, "restart-" + Guid.NewGuid().ToString("N"));
        string keyedJobId;
        List<JobEvent> watchedBefore;
        await using (var before = await fixture.StartClusterAsync(serviceId, silos: 1, slotsPerSilo: 1))
        {
            IJobGrain Job(string id) => before.Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, id));
            await Job(finished).SubmitAsync(Specs.Recipe("echo", prompt: "kept"));
            await Job(failed).SubmitAsync(Specs.Recipe("wait", """{"seconds":0,"steps":1,"fail":"kept too"}"""));
            await Job(finished).UntilStatus(JobStatus.Succeeded);
            await Job(failed).UntilStatus(JobStatus.Failed);
            await Job(running).SubmitAsync(Specs.Recipe("wait", """{"seconds":3,"steps":6}"""));
            await Job(running).UntilStatus(JobStatus.Running);
            await Job(queued).SubmitAsync(Specs.Recipe("echo", prompt: "waited for a slot"));
            await Job(cancelled).SubmitAsync(Specs.Probe(scope));
            await Job(cancelled).CancelAsync();
            keyedJobId = (await before.Client.GetGrain<IIdempotencyGrain>(keyed).SubmitAsync(Specs.Recipe("echo"))).Job!.JobId;
            Assert.Equal(JobStatus.Queued, (await Job(queued).GetStatusAsync())!.Status);
            watchedBefore = await Job(failed).WatchAsync(0).ToListAsync();
            await before.StopAllSilosAsync();
        }

        await using var after = await fixture.StartClusterAsync(serviceId, silos: 1, slotsPerSilo: 1);
        IJobGrain Again(string id) => after.Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, id));

        var result = await Again(finished).GetResultAsync();
        Assert.Equal("kept", JsonSerializer.Deserialize<string>(result.Outcome!.ResultJson!));
        Assert.Equal("kept too", (await Again(failed).GetStatusAsync())!.Error);
        Assert.Equal([JobStatus.Queued, JobStatus.Running, JobStatus.Failed], watchedBefore.Where(e => e.Kind == JobEventKind.Status).Select(e => e.Status));
        Assert.Equal(JobEvents.Coalesced([.. watchedBefore.SkipLast(1)]).Append(watchedBefore[^1]), await Again(failed).WatchAsync(0).ToListAsync()); // its states, replayed from its record
        Assert.Equal(JobStatus.Cancelled, (await Again(cancelled).GetStatusAsync())!.Status);
        Assert.Equal(JobStatus.Succeeded, (await Again(running).UntilTerminal(TimeSpan.FromSeconds(60)))!.Status);
        Assert.Equal(JobStatus.Succeeded, (await Again(queued).UntilTerminal(TimeSpan.FromSeconds(60)))!.Status);
        var repeat = await after.Client.GetGrain<IIdempotencyGrain>(keyed).SubmitAsync(Specs.Recipe("echo"));
        Assert.Equal(SubmitStatus.Existing, repeat.Status);
        Assert.Equal(keyedJobId, repeat.Job!.JobId);
        var listed = await after.Client.GetGrain<IJobQueryGrain>(0).ListAsync(new JobListQuery(JobKeys.DefaultTenant, null, null, 1, 100));
        Assert.Superset(new HashSet<string> { finished, failed, cancelled, running, queued, keyedJobId }, listed.Jobs.Select(j => j.JobId).ToHashSet());
    }

    /// <summary>A 4-second wait job pinned to the cluster's last silo, once it has made some progress there.</summary>
    private static async Task<(IJobGrain Job, InProcessSiloHandle Silo)> StartWaitJobOnLastSiloAsync(InProcessTestCluster cluster, int maxAttempts)
    {
        var doomed = cluster.Silos[^1];
        var job = cluster.Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, JobIds.New()));
        await SubmitOnAsync(job, doomed, Specs.Recipe("wait", """{"seconds":4,"steps":8}""", maxAttempts: maxAttempts));
        await Eventually.Until(job.GetStatusAsync, s => s!.Progress.Percentage >= 25, "the job to make progress");
        return (job, doomed);
    }

    /// <summary>Runs echo jobs to their end, waiting on their grains (a list query would read the index).</summary>
    /// <summary>
    /// Runs echo jobs to their end, and waits until the index holds them ended too: a job's last index
    /// write follows the commit its status shows, so a test counting requests from here on would
    /// otherwise count it (1 run in 5 did).
    /// </summary>
    protected static async Task RunEchoJobsAsync(InProcessTestCluster cluster, int count)
    {
        var jobs = Enumerable.Range(0, count).Select(_ => JobIds.New()).ToList();
        await Task.WhenAll(jobs.Select(id => cluster.Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, id)).SubmitAsync(Specs.Recipe("echo"))));
        foreach (var id in jobs)
        {
            Assert.Equal(JobStatus.Succeeded, (await cluster.Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, id)).UntilTerminal())!.Status);
        }

        var query = cluster.Client.GetGrain<IJobQueryGrain>(0);
        await Eventually.Until(
            async () => (await query.ListAsync(new JobListQuery(JobKeys.DefaultTenant, JobStatus.Succeeded, null, 1, 100))).Jobs.Select(j => j.JobId).ToHashSet(),
            listed => jobs.All(listed.Contains),
            "the jobs' last index writes");
    }

    /// <summary>Submits with a placement hint, so the job's grain activates on <paramref name="silo"/>.</summary>
    protected static async Task SubmitOnAsync(IJobGrain job, InProcessSiloHandle silo, JobSpec spec)
    {
        RequestContext.Set(IPlacementDirector.PlacementHintKey, silo.SiloAddress);
        try
        {
            await job.SubmitAsync(spec);
        }
        finally
        {
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        }
    }

    protected static async Task<JobEvent> FinalEventAsync(IJobGrain job)
    {
        await foreach (var e in job.WatchAsync(0))
        {
            if (e.IsFinal)
            {
                return e;
            }
        }

        throw new InvalidOperationException("The watch ended without a final event.");
    }

    protected static string NewServiceId() => "svc-" + Guid.NewGuid().ToString("N")[..12];
}
