namespace Praison.Orleans.Tests.Grains;

[Collection(JobsClusterCollection.Name)]
public sealed class CancelAndQueueTests(JobsClusterFixture fixture)
{
    [Fact]
    public async Task Cancel_QueuedJob_NeverStarts()
    {
        var scope = ProbeLedger.NewScope();
        var silo = fixture.FirstSilo;
        var blockers = new List<IJobGrain>();
        for (var i = 0; i < JobsClusterFixture.SlotsPerSilo; i++)
        {
            var blocker = fixture.NewJob(out _, silo);
            await blocker.SubmitAsync(Specs.Probe(scope));
            blockers.Add(blocker);
        }

        await Eventually.Until(
            () => ProbeLedger.Runs(scope).Count == JobsClusterFixture.SlotsPerSilo, "the blockers to take every slot");
        var queued = fixture.NewJob(out var queuedId, silo);
        await queued.SubmitAsync(Specs.Probe(scope));
        Assert.Equal(JobStatus.Queued, (await queued.GetStatusAsync())!.Status);

        var reply = await queued.CancelAsync();

        Assert.Equal(JobCommandStatus.Done, reply.Status);
        Assert.Equal(JobStatus.Cancelled, reply.Job!.Status);
        Assert.Null(reply.Job.StartedAt);
        Assert.Equal(reply.Job.CancelledAt, reply.Job.CompletedAt);
        foreach (var blocker in blockers)
        {
            await blocker.CancelAsync();
        }

        // The freed slots go to whoever waits; the cancelled job must not be among them.
        var follower = fixture.NewJob(out var followerId, silo);
        await follower.SubmitAsync(Specs.Probe(scope, seconds: 0.05));
        await follower.UntilStatus(JobStatus.Succeeded);
        Assert.DoesNotContain(ProbeLedger.Runs(scope), run => run.JobId == queuedId);
        Assert.Contains(ProbeLedger.Runs(scope), run => run.JobId == followerId);
        Assert.Equal(JobStatus.Cancelled, (await queued.GetStatusAsync())!.Status);
    }

    [Fact]
    public async Task Cancel_RunningJob_FiresTokenAndDiscardsLateResult()
    {
        var scope = ProbeLedger.NewScope();
        var job = fixture.NewJob(out _);
        await job.SubmitAsync(Specs.Probe(scope, lateResult: "produced after cancel"));
        var run = (await Eventually.Until(
            () => Task.FromResult(ProbeLedger.Runs(scope)), runs => runs.Count == 1, "the probe to start")).Single();
        await job.UntilStatus(JobStatus.Running);

        var cancelSentAt = DateTimeOffset.UtcNow;
        var reply = await job.CancelAsync();

        Assert.Equal(JobCommandStatus.Done, reply.Status);
        Assert.Equal(JobStatus.Cancelled, reply.Job!.Status);
        Assert.NotNull(reply.Job.CancelledAt);
        await Eventually.Until(() => run.ReturnedAt is not null, "the probe to return its late value");
        Assert.InRange(run.CancelObservedAt!.Value - cancelSentAt, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        var after = await job.GetStatusAsync();
        Assert.Equal(JobStatus.Cancelled, after!.Status);
        var result = await job.GetResultAsync();
        Assert.Equal(JobStatus.Cancelled, result.Outcome!.Job.Status);
        Assert.Null(result.Outcome.ResultJson);
    }

    [Theory]
    [InlineData(JobStatus.Succeeded)]
    [InlineData(JobStatus.Failed)]
    [InlineData(JobStatus.Cancelled)]
    public async Task Cancel_TerminalJob_IsRefusedAndChangesNothing(JobStatus terminal)
    {
        var job = fixture.NewJob(out _);
        await job.SubmitAsync(terminal switch
        {
            JobStatus.Succeeded => Specs.Recipe("echo"),
            JobStatus.Failed => Specs.Recipe("wait", """{"seconds":0,"steps":1,"fail":"no"}"""),
            _ => Specs.Probe(ProbeLedger.NewScope()),
        });
        if (terminal == JobStatus.Cancelled)
        {
            await job.CancelAsync();
        }

        var before = await job.UntilTerminal();
        Assert.Equal(terminal, before!.Status);

        var reply = await job.CancelAsync();

        Assert.Equal(JobCommandStatus.WrongState, reply.Status);
        Assert.Equal(before, reply.Job);
        Assert.Equal(before, await job.GetStatusAsync());
    }

    [Fact]
    public async Task Queue_FiveJobsAtMaxConcurrentTwo_NeverRunMoreThanTwoOnTheSiloAndAllSucceed()
    {
        var scope = ProbeLedger.NewScope();
        var silo = fixture.FirstSilo;
        var jobs = new List<IJobGrain>();
        for (var i = 0; i < 5; i++)
        {
            var job = fixture.NewJob(out _, silo);
            await job.SubmitAsync(Specs.Probe(scope, seconds: 0.3));
            jobs.Add(job);
        }

        foreach (var job in jobs)
        {
            Assert.Equal(JobStatus.Succeeded, (await job.UntilTerminal())!.Status);
        }

        var runs = ProbeLedger.Runs(scope);
        Assert.Equal(5, runs.Count);
        Assert.All(runs, run => Assert.Equal(silo.ToParsableString(), run.Silo));
        Assert.Equal(JobsClusterFixture.SlotsPerSilo, ProbeLedger.MaxRunningOnOneSilo(scope));
    }

    [Fact]
    public async Task Queue_FreedSlots_GoToTheHighestPriorityFirst_AndTheStatusShowsIt()
    {
        var scope = ProbeLedger.NewScope();
        var silo = fixture.FirstSilo;
        var running = await HoldEverySlotAsync(scope, silo);
        var queued = new Dictionary<string, (int Priority, IJobGrain Grain)>();
        foreach (var priority in new[] { 0, 5, 9 })
        {
            var job = fixture.NewJob(out var id, silo);
            await job.SubmitAsync(Specs.Probe(scope) with { Priority = priority });
            queued[id] = (priority, job);
            Assert.Equal(priority, (await job.GetStatusAsync())!.Priority);
        }

        // Free one slot at a time: each goes to the highest priority still queued.
        var started = new List<int>();
        for (var i = 0; i < queued.Count; i++)
        {
            var startedBefore = ProbeLedger.Runs(scope).Count;
            await running.Dequeue().CancelAsync();
            var runs = await Eventually.Until(
                () => Task.FromResult(ProbeLedger.Runs(scope)), r => r.Count > startedBefore, "the next queued job to start");
            var (priority, grain) = queued[runs[^1].JobId];
            started.Add(priority);
            running.Enqueue(grain);
        }

        Assert.Equal([9, 5, 0], started);
        while (running.TryDequeue(out var job))
        {
            await job.CancelAsync();
        }
    }

    [Fact]
    public async Task Queue_FreedSlot_GoesToTheOldestQueuedJob()
    {
        var scope = ProbeLedger.NewScope();
        var silo = fixture.FirstSilo;
        var running = await HoldEverySlotAsync(scope, silo);
        var queued = new List<(string Id, IJobGrain Grain)>();
        for (var i = 0; i < 3; i++)
        {
            var job = fixture.NewJob(out var id, silo);
            await job.SubmitAsync(Specs.Probe(scope));
            queued.Add((id, job));
        }

        // Free one slot at a time: each must go to the longest-waiting job.
        foreach (var (id, grain) in queued)
        {
            var startedBefore = ProbeLedger.Runs(scope).Count;
            await running.Dequeue().CancelAsync();
            var runs = await Eventually.Until(
                () => Task.FromResult(ProbeLedger.Runs(scope)), r => r.Count > startedBefore, "the next queued job to start");
            Assert.Equal(id, runs[^1].JobId);
            running.Enqueue(grain);
        }

        Assert.Equal(JobsClusterFixture.SlotsPerSilo, ProbeLedger.MaxRunningOnOneSilo(scope));
        while (running.TryDequeue(out var job))
        {
            await job.CancelAsync();
        }
    }

    [Fact]
    public async Task Deactivation_RunningJob_ResumesAsNextAttempt()
    {
        var scope = ProbeLedger.NewScope();
        var job = fixture.NewJob(out var jobId);
        await job.SubmitAsync(Specs.Probe(scope, seconds: 1));
        await Eventually.Until(() => ProbeLedger.Runs(scope).Count == 1, "the first attempt to start");

        await fixture.Cluster.DeactivateAsync(fixture.Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, jobId)));

        var done = await job.UntilTerminal();
        Assert.Equal(JobStatus.Succeeded, done!.Status);
        Assert.Equal(2, done.Attempt);
        var runs = ProbeLedger.Runs(scope);
        Assert.Equal([1, 2], runs.Select(r => r.Attempt));
        Assert.NotNull(runs[0].CancelObservedAt);
    }

    [Fact]
    public async Task Deactivation_LastAttempt_FailsAsInterrupted()
    {
        var scope = ProbeLedger.NewScope();
        var job = fixture.NewJob(out var jobId);
        await job.SubmitAsync(Specs.Probe(scope, maxAttempts: 1));
        await Eventually.Until(() => ProbeLedger.Runs(scope).Count == 1, "the only attempt to start");

        await fixture.Cluster.DeactivateAsync(fixture.Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, jobId)));

        var done = await job.UntilTerminal();
        Assert.Equal(JobStatus.Failed, done!.Status);
        Assert.Equal("Interrupted: attempts exhausted (1)", done.Error);
        Assert.Single(ProbeLedger.Runs(scope));
    }

    /// <summary>Probe jobs on every slot of <paramref name="silo"/>, once all have started; cancel them to free slots.</summary>
    private async Task<Queue<IJobGrain>> HoldEverySlotAsync(string scope, SiloAddress silo)
    {
        var running = new Queue<IJobGrain>();
        for (var i = 0; i < JobsClusterFixture.SlotsPerSilo; i++)
        {
            var blocker = fixture.NewJob(out _, silo);
            await blocker.SubmitAsync(Specs.Probe(scope));
            running.Enqueue(blocker);
        }

        await Eventually.Until(() => ProbeLedger.Runs(scope).Count == JobsClusterFixture.SlotsPerSilo, "the blockers to start");
        return running;
    }
}
