using System.Text.Json;
using Orleans.Core.Internal;

namespace Praison.Orleans.Tests.Grains;

/// <summary>
/// Batches (docs/api.md "Batches") across a real 3-silo cluster: a batch creates its jobs, counts them as
/// they run and end, and its then job runs once after the last, with their results. Jobs are gated
/// probes, so "before" and "after" are the test's to decide; the probe ledger says who ran, when and how often.
/// </summary>
[Collection(JobsClusterCollection.Name)]
public sealed class BatchTests(JobsClusterFixture fixture)
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task ABatch_RunsEachJobOnce_AndItsThenJobAfterTheLast_WithTheirResults()
    {
        var (scope, gate) = (ProbeLedger.NewScope(), Guid.NewGuid().ToString("N"));
        var (batch, created) = await CreateAsync(new BatchSpec(
            [.. Enumerable.Range(0, 40).Select(_ => Specs.GatedProbe(scope, gate))], Specs.Probe(scope, seconds: 0)));
        var jobIds = (await batch.JobIdsAsync(0, 100))!;
        Assert.Equal(40, jobIds.Count);
        Assert.Equal(40, jobIds.Distinct().Count());
        var then = created.ThenJobId!;
        Assert.DoesNotContain(then, jobIds);

        await Eventually.Until(batch.GetAsync, b => b is { Creating: false, Counts.Running: > 0 }, "the batch created and running", Bound);
        var thenWaiting = await Eventually.Until(Job(then).GetStatusAsync, s => s?.Waiting == "depends_on", "the then job waiting", Bound);
        Assert.Equal([batch.GetPrimaryKeyString().Split('/')[1]], thenWaiting!.DependsOn!);
        Assert.DoesNotContain(ProbeLedger.Runs(scope), run => run.JobId == then);

        ProbeLedger.Open(gate);
        var ended = await Eventually.Until(batch.GetAsync, b => b?.CompletedAt is not null, "the batch ended", Bound);
        Assert.Equal(JobStatus.Succeeded, ended!.Status);
        Assert.Equal(new BatchCounts(0, 0, 40, 0, 0, 0), ended.Counts);
        Assert.Equal(JobStatus.Succeeded, (await Job(then).UntilTerminal(Bound))!.Status);

        var runs = ProbeLedger.Runs(scope);
        Assert.All(jobIds, id => Assert.Single(runs, run => run.JobId == id));
        var thenRun = Assert.Single(runs, run => run.JobId == then);
        var lastEnd = (await Task.WhenAll(jobIds.Select(id => Job(id).GetStatusAsync()))).Max(job => job!.CompletedAt!.Value);
        Assert.True(thenRun.StartedAt >= lastEnd, "the then job started before the batch's last job ended");
        var given = Assert.Single(thenRun.Parents);
        Assert.Equal(JobStatus.Succeeded, given.Status);
        var results = JsonDocument.Parse(given.ResultJson!).RootElement;
        Assert.Equal(jobIds, results.EnumerateObject().Select(p => p.Name)); // every job's result, in the batch's order
        Assert.All(jobIds, id => Assert.Equal($"probe {id} done", results.GetProperty(id).GetString()));
    }

    [Fact]
    public async Task AFailedJob_FailsTheBatch_CancelsAThenJobThatNeedsSuccess_AndRunsOneThatNeedsOne()
    {
        var (scope, gate) = (ProbeLedger.NewScope(), Guid.NewGuid().ToString("N"));
        var (batch, created) = await CreateAsync(new BatchSpec(
            [Specs.GatedProbe(scope, gate), Specs.GatedProbe(scope, gate, fail: "one broke"), Specs.GatedProbe(scope, gate)],
            Specs.Probe(scope, seconds: 0)));
        var batchId = created.BatchId;
        var (anyChild, anyId) = await SubmitAsync(Specs.Probe(scope, seconds: 0) with { DependsOn = [batchId], RunIf = RunIf.AnySucceeded });
        var (finishedChild, _) = await SubmitAsync(Specs.Probe(scope, seconds: 0) with { DependsOn = [batchId], RunIf = RunIf.Finished });

        ProbeLedger.Open(gate);
        var ended = await Eventually.Until(batch.GetAsync, b => b?.CompletedAt is not null, "the batch ended", Bound);
        Assert.Equal(JobStatus.Failed, ended!.Status);
        Assert.Equal(new BatchCounts(0, 0, 2, 1, 0, 0), ended.Counts);

        var thenEnd = await Job(created.ThenJobId!).UntilTerminal(Bound);
        Assert.Equal(JobStatus.Cancelled, thenEnd!.Status);
        Assert.Contains(batchId, thenEnd.Error);
        Assert.Contains("2 succeeded, 1 failed", thenEnd.Error);
        Assert.Equal(JobStatus.Succeeded, (await anyChild.UntilTerminal(Bound))!.Status);
        Assert.Equal(JobStatus.Succeeded, (await finishedChild.UntilTerminal(Bound))!.Status);
        var anyRun = Assert.Single(ProbeLedger.Runs(scope), run => run.JobId == anyId);
        Assert.Equal(2, JsonDocument.Parse(Assert.Single(anyRun.Parents).ResultJson!).RootElement.EnumerateObject().Count()); // the two that succeeded
    }

    [Fact]
    public async Task CancellingABatch_CancelsItsLiveJobsAndItsThenJob_AndCannotBeDoneTwice()
    {
        var scope = ProbeLedger.NewScope();
        var (batch, created) = await CreateAsync(new BatchSpec([.. Enumerable.Range(0, 12).Select(_ => Specs.Probe(scope))], Specs.Probe(scope, seconds: 0)));
        await Eventually.Until(batch.GetAsync, b => b is { Creating: false, Counts.Running: > 0 }, "the batch running", Bound);

        var cancelled = await batch.CancelAsync();

        Assert.Equal(BatchCommandStatus.Done, cancelled.Status);
        var ended = await Eventually.Until(batch.GetAsync, b => b?.CompletedAt is not null, "the batch ended", Bound);
        Assert.Equal(JobStatus.Cancelled, ended!.Status);
        Assert.NotNull(ended.CancelledAt);
        Assert.Equal(12, ended.Counts.Cancelled);
        var jobs = await Task.WhenAll((await batch.JobIdsAsync(0, 100))!.Select(id => Job(id).GetStatusAsync()));
        Assert.All(jobs, job => Assert.Equal(JobStatus.Cancelled, job!.Status));
        Assert.Equal(JobStatus.Cancelled, (await Job(created.ThenJobId!).UntilTerminal(Bound))!.Status);
        Assert.DoesNotContain(ProbeLedger.Runs(scope), run => run.JobId == created.ThenJobId);
        Assert.Equal(BatchCommandStatus.WrongState, (await batch.CancelAsync()).Status);
    }

    [Fact]
    public async Task ABatchWhoseJobsMessagesAreLost_LearnsTheirEndsByAsking()
    {
        var (scope, gate) = (ProbeLedger.NewScope(), Guid.NewGuid().ToString("N"));
        var (batch, created) = await CreateAsync(new BatchSpec([.. Enumerable.Range(0, 5).Select(_ => Specs.GatedProbe(scope, gate))], null));
        await Eventually.Until(batch.GetAsync, b => b is { Creating: false }, "the batch created", Bound);
        var droppedBefore = GrainCalls.DroppedCount;
        using (GrainCalls.Drop(nameof(IBatchGrain.JobChangedAsync), created.BatchId))
        {
            ProbeLedger.Open(gate);
            var jobs = (await batch.JobIdsAsync(0, 100))!;
            foreach (var id in jobs)
            {
                Assert.Equal(JobStatus.Succeeded, (await Job(id).UntilTerminal(Bound))!.Status);
            }

            Assert.True(GrainCalls.DroppedCount > droppedBefore, "no job's message was lost");
            await batch.Cast<IGrainManagementExtension>().DeactivateOnIdle(); // the next activation asks them all at once
            var ended = await Eventually.Until(batch.GetAsync, b => b?.CompletedAt is not null, "the batch ended by asking", Bound);
            Assert.Equal(new BatchCounts(0, 0, 5, 0, 0, 0), ended!.Counts);
        }
    }

    [Fact]
    public async Task ABatchLostWhileItsJobsRun_KeepsWhatItLearnt_AndEndsOnce()
    {
        // Four of its jobs wait (holding no slot) on a gated job outside the batch; the first fails at once.
        var (scope, gate) = (ProbeLedger.NewScope(), Guid.NewGuid().ToString("N"));
        var (_, outsideId) = await SubmitAsync(Specs.GatedProbe(scope, gate));
        var (batch, created) = await CreateAsync(new BatchSpec(
            [Specs.Recipe(ProbeRecipe.RecipeName, ProbeLedger.Config(scope, seconds: 0, fail: "early")),
             .. Enumerable.Range(0, 4).Select(_ => Specs.Probe(scope, seconds: 0) with { DependsOn = [outsideId] })],
            Specs.Probe(scope, seconds: 0) with { RunIf = RunIf.Finished }));
        try
        {
            await Eventually.Until(batch.GetAsync, b => b?.Counts.Failed == 1, "the first job's end counted", Bound);

            await batch.Cast<IGrainManagementExtension>().DeactivateOnIdle(); // perhaps still creating: the next activation goes on
            await Eventually.Until(batch.GetAsync, b => b?.Counts.Failed == 1, "the end known again (stored, or asked)", Bound);
        }
        finally
        {
            ProbeLedger.Open(gate); // never left holding a slot
        }

        var ended = await Eventually.Until(batch.GetAsync, b => b?.CompletedAt is not null, "the batch ended", Bound);
        Assert.Equal(new BatchCounts(0, 0, 4, 1, 0, 0), ended!.Counts);
        Assert.Equal(JobStatus.Succeeded, (await Job(created.ThenJobId!).UntilTerminal(Bound))!.Status);
        Assert.Single(ProbeLedger.Runs(scope), run => run.JobId == created.ThenJobId);
    }

    [Fact]
    public async Task ABatchLostWhileCreatingItsJobs_GoesOnWhereItStopped_CreatingEachOnce()
    {
        // One job's creation is held (its parent's write of it as a dependant), so the batch is mid-creation when it is lost.
        var scope = ProbeLedger.NewScope();
        var (parent, parentId) = await SubmitAsync(Specs.Probe(scope, seconds: 0));
        Assert.Equal(JobStatus.Succeeded, (await parent.UntilTerminal(Bound))!.Status);
        var held = StorageFaults.OnWrite(parentId, record => record.Dependants is { Length: > 0 }, StorageFault.Hold);
        var jobs = Enumerable.Range(0, 150).Select(i => i == 70 ? Specs.Probe(scope, seconds: 0) with { DependsOn = [parentId] } : Specs.Probe(scope, seconds: 0));
        var (batch, created) = await CreateAsync(new BatchSpec([.. jobs], Specs.Probe(scope, seconds: 0)));
        await held.Reached.WaitAsync(Bound);
        Assert.True((await batch.GetAsync())!.Creating);

        await batch.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        held.Release();

        var ended = await Eventually.Until(batch.GetAsync, b => b?.CompletedAt is not null, "the batch created and ended", Bound);
        Assert.Equal(new BatchCounts(0, 0, 150, 0, 0, 0), ended!.Counts);
        Assert.Equal(JobStatus.Succeeded, (await Job(created.ThenJobId!).UntilTerminal(Bound))!.Status);
        var runs = ProbeLedger.Runs(scope);
        var jobIds = (await batch.JobIdsAsync(0, 200))!;
        Assert.All(jobIds.Append(created.ThenJobId!), id => Assert.Equal(1, Assert.Single(runs, run => run.JobId == id).Attempt));
        Assert.Equal(152, runs.Count); // the parent, 150 jobs, the then job: none twice
    }

    [Fact]
    public async Task ABatchThatAJobRecipeRefuses_IsNotCreated_NamingTheJob()
    {
        var batch = fixture.Client.Batch(JobKeys.DefaultTenant, JobIds.NewBatch());

        var reply = await batch.CreateAsync(new BatchSpec([Specs.PromptOnly("fine"), Specs.Recipe("no-such-recipe")], null));

        Assert.Equal(BatchCommandStatus.Rejected, reply.Status);
        Assert.StartsWith("jobs[1].", reply.Field);
        Assert.Null(await batch.GetAsync());
    }

    [Fact]
    public async Task DeletingABatch_WaitsForItsJobs_ThenRemovesThemAll()
    {
        var (scope, gate) = (ProbeLedger.NewScope(), Guid.NewGuid().ToString("N"));
        var (batch, created) = await CreateAsync(new BatchSpec([Specs.GatedProbe(scope, gate), Specs.GatedProbe(scope, gate)], Specs.Probe(scope, seconds: 0)));
        Assert.Equal(BatchCommandStatus.WrongState, (await batch.DeleteAsync()).Status);

        ProbeLedger.Open(gate);
        await Job(created.ThenJobId!).UntilTerminal(Bound);
        var jobs = (await batch.JobIdsAsync(0, 100))!;
        Assert.Equal(BatchCommandStatus.Done, (await batch.DeleteAsync()).Status);

        Assert.Null(await batch.GetAsync());
        Assert.All(await Task.WhenAll(jobs.Append(created.ThenJobId!).Select(id => Job(id).GetStatusAsync())), Assert.Null);
        Assert.Equal(BatchCommandStatus.NotFound, (await batch.DeleteAsync()).Status);
    }

    private IJobGrain Job(string jobId) => fixture.Client.Job(JobKeys.DefaultTenant, jobId);

    private async Task<(IBatchGrain Batch, BatchSnapshot Created)> CreateAsync(BatchSpec spec)
    {
        var batch = fixture.Client.Batch(JobKeys.DefaultTenant, JobIds.NewBatch());
        var reply = await batch.CreateAsync(spec);
        Assert.True(reply.Status == BatchCommandStatus.Done, $"{reply.Status}: {reply.Error}");
        return (batch, reply.Batch!);
    }

    private async Task<(IJobGrain Job, string Id)> SubmitAsync(JobSpec spec)
    {
        var job = fixture.NewJob(out var id);
        var reply = await job.SubmitAsync(spec);
        Assert.True(reply.Status == SubmitStatus.Accepted, $"{reply.Status}: {reply.Error}");
        return (job, id);
    }
}
