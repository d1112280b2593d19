using Orleans.Core.Internal;

namespace Praison.Orleans.Tests.Grains;

/// <summary>
/// Jobs that depend on other jobs (<c>depends_on</c>, <c>run_if</c>) across a real 3-silo cluster. Parents
/// are gated probes: each runs until its test opens its gate, so "before" and "after" are decided by the
/// test, not by timing; the probe ledger records when and how often each child ran, and what it was given.
/// </summary>
[Collection(JobsClusterCollection.Name)]
public sealed class DependencyTests(JobsClusterFixture fixture)
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task AChild_WaitsForItsParent_ThenRunsOnceWithItsResult()
    {
        var (scope, gate) = (ProbeLedger.NewScope(), Guid.NewGuid().ToString("N"));
        var (parent, parentId) = await SubmitAsync(Specs.GatedProbe(scope, gate));
        await parent.UntilStatus(JobStatus.Running, Bound);
        var (child, childId) = await SubmitAsync(Specs.Probe(scope, seconds: 0) with { DependsOn = [parentId] });

        var waiting = await Eventually.Until(child.GetStatusAsync, s => s?.Waiting == "depends_on", "the child waiting for its parent", Bound);
        Assert.Equal(JobStatus.Queued, waiting!.Status);
        Assert.Equal([parentId], waiting.WaitingFor!);
        Assert.Equal([parentId], waiting.DependsOn!);
        Assert.DoesNotContain(ProbeLedger.Runs(scope), run => run.JobId == childId);

        ProbeLedger.Open(gate);
        var parentEnd = await parent.UntilTerminal(Bound);
        var childEnd = await child.UntilTerminal(Bound);
        Assert.Equal(JobStatus.Succeeded, childEnd!.Status);
        var run = Assert.Single(ProbeLedger.Runs(scope), r => r.JobId == childId);
        Assert.True(run.StartedAt >= parentEnd!.CompletedAt, "the child started before its parent ended");
        var given = Assert.Single(run.Parents);
        Assert.Equal((parentId, JobStatus.Succeeded), (given.JobId, given.Status));
        Assert.Equal($"\"probe {parentId} done\"", given.ResultJson);
        Assert.Null((await child.GetStatusAsync())!.WaitingFor);
    }

    [Fact]
    public async Task SucceededChildren_OfAFailedParent_AreCancelledNamingIt_AndSoAreTheirOwnChildren()
    {
        var (scope, gate) = (ProbeLedger.NewScope(), Guid.NewGuid().ToString("N"));
        var (parent, parentId) = await SubmitAsync(Specs.GatedProbe(scope, gate, fail: "the parent broke"));
        var (child, childId) = await SubmitAsync(Specs.Probe(scope, seconds: 0) with { DependsOn = [parentId] });
        var (grandchild, _) = await SubmitAsync(Specs.Probe(scope, seconds: 0) with { DependsOn = [childId] });

        ProbeLedger.Open(gate);
        Assert.Equal(JobStatus.Failed, (await parent.UntilTerminal(Bound))!.Status);
        var childEnd = await child.UntilTerminal(Bound);
        Assert.Equal(JobStatus.Cancelled, childEnd!.Status);
        Assert.Contains(parentId, childEnd.Error);
        Assert.Contains("the parent broke", childEnd.Error);
        var grandchildEnd = await grandchild.UntilTerminal(Bound);
        Assert.Equal(JobStatus.Cancelled, grandchildEnd!.Status);
        Assert.Contains(childId, grandchildEnd.Error);
        Assert.Single(ProbeLedger.Runs(scope)); // the parent only
    }

    [Fact]
    public async Task CancellingAParent_CancelsItsSucceededChild_AndRunsItsFinishedChild()
    {
        var scope = ProbeLedger.NewScope();
        var (parent, parentId) = await SubmitAsync(Specs.Probe(scope));
        await parent.UntilStatus(JobStatus.Running, Bound);
        var (strict, _) = await SubmitAsync(Specs.Probe(scope, seconds: 0) with { DependsOn = [parentId] });
        var (lenient, lenientId) = await SubmitAsync(Specs.Probe(scope, seconds: 0) with { DependsOn = [parentId], RunIf = RunIf.Finished });

        Assert.Equal(JobCommandStatus.Done, (await parent.CancelAsync()).Status);
        Assert.Equal(JobStatus.Cancelled, (await strict.UntilTerminal(Bound))!.Status);
        Assert.Equal(JobStatus.Succeeded, (await lenient.UntilTerminal(Bound))!.Status);
        var run = Assert.Single(ProbeLedger.Runs(scope), r => r.JobId == lenientId);
        Assert.Equal(JobStatus.Cancelled, Assert.Single(run.Parents).Status);
    }

    [Fact]
    public async Task AnAnySucceededChild_RunsAtTheFirstSuccess_AndIsCancelledWhenNoneSucceeds()
    {
        var (scope, gate) = (ProbeLedger.NewScope(), Guid.NewGuid().ToString("N"));
        var (slow, slowId) = await SubmitAsync(Specs.Probe(scope));
        var (quick, quickId) = await SubmitAsync(Specs.GatedProbe(scope, gate));
        var (child, childId) = await SubmitAsync(Specs.Probe(scope, seconds: 0) with { DependsOn = [slowId, quickId], RunIf = RunIf.AnySucceeded });
        var (failing1, failing1Id) = await SubmitAsync(Specs.GatedProbe(scope, gate, fail: "no"));
        var (failing2, failing2Id) = await SubmitAsync(Specs.GatedProbe(scope, gate, fail: "no"));
        var (hopeless, _) = await SubmitAsync(Specs.Probe(scope, seconds: 0) with { DependsOn = [failing1Id, failing2Id], RunIf = RunIf.AnySucceeded });
        try
        {
            ProbeLedger.Open(gate);
            Assert.Equal(JobStatus.Succeeded, (await child.UntilTerminal(Bound))!.Status);
            Assert.False((await slow.GetStatusAsync())!.Status.IsTerminal()); // it did not wait for the slow one
            var run = Assert.Single(ProbeLedger.Runs(scope), r => r.JobId == childId);
            Assert.Equal(quickId, Assert.Single(run.Parents).JobId);

            var hopelessEnd = await hopeless.UntilTerminal(Bound);
            Assert.Equal(JobStatus.Cancelled, hopelessEnd!.Status);
            Assert.Contains("None of the jobs it depends on succeeded", hopelessEnd.Error);
            Assert.Equal(JobStatus.Failed, (await failing1.GetStatusAsync())!.Status);
            Assert.Equal(JobStatus.Failed, (await failing2.GetStatusAsync())!.Status);
        }
        finally
        {
            await slow.CancelAsync(); // an endless probe
        }
    }

    [Fact]
    public async Task OneParentAThousandChildren_NoneStartsBeforeIt_EachRunsOnce()
    {
        var (scope, gate) = (ProbeLedger.NewScope(), Guid.NewGuid().ToString("N"));
        var (parent, parentId) = await SubmitAsync(Specs.GatedProbe(scope, gate));
        var children = new List<(IJobGrain Job, string Id)>();
        foreach (var chunk in Enumerable.Range(0, 1000).Chunk(100))
        {
            children.AddRange(await Task.WhenAll(chunk.Select(_ => SubmitAsync(Specs.Probe(scope, seconds: 0) with { DependsOn = [parentId] }))));
        }

        await Eventually.Until(
            () => Task.WhenAll(children.Select(c => c.Job.GetStatusAsync())),
            all => all.All(s => s?.Waiting == "depends_on"), "every child waiting for its parent", Bound);
        Assert.All(ProbeLedger.Runs(scope), run => Assert.Equal(parentId, run.JobId)); // no child yet

        ProbeLedger.Open(gate);
        var parentEnd = await parent.UntilTerminal(Bound);
        var ends = await Task.WhenAll(children.Select(c => c.Job.UntilTerminal(TimeSpan.FromMinutes(4))));
        Assert.All(ends, end => Assert.Equal(JobStatus.Succeeded, end!.Status));
        var runs = ProbeLedger.Runs(scope).Where(r => r.JobId != parentId).ToList();
        Assert.Equal(1000, runs.Count);
        Assert.Equal(1000, runs.Select(r => r.JobId).Distinct().Count());
        Assert.All(runs, r => Assert.True(r.StartedAt >= parentEnd!.CompletedAt, $"{r.JobId} started before its parent ended"));
    }

    [Fact]
    public async Task UnknownAndOtherTenantsParents_AreRefusedByName_AndNothingIsCreated()
    {
        var (_, mine) = await SubmitAsync(Specs.Recipe("echo"));
        var theirsId = JobIds.New();
        var theirs = fixture.Client.GetGrain<IJobGrain>(JobKeys.For("globex", theirsId));
        Assert.Equal(SubmitStatus.Accepted, (await theirs.SubmitAsync(Specs.Recipe("echo"))).Status);
        var unknown = JobIds.New();

        var child = fixture.NewJob(out _);
        var reply = await child.SubmitAsync(Specs.Recipe("echo") with { DependsOn = [mine, theirsId, unknown] });
        Assert.Equal(SubmitStatus.Rejected, reply.Status);
        Assert.Equal("depends_on", reply.Field);
        Assert.Contains(theirsId, reply.Error);
        Assert.Contains(unknown, reply.Error);
        Assert.DoesNotContain(mine, reply.Error);
        Assert.Null(await child.GetStatusAsync());
    }

    [Fact]
    public async Task CancellingOrDeletingAWaitingChild_IsImmediate()
    {
        var scope = ProbeLedger.NewScope();
        var (parent, parentId) = await SubmitAsync(Specs.Probe(scope));
        try
        {
            var (cancelled, _) = await SubmitAsync(Specs.Probe(scope, seconds: 0) with { DependsOn = [parentId] });
            var (deleted, _) = await SubmitAsync(Specs.Probe(scope, seconds: 0) with { DependsOn = [parentId] });
            await Eventually.Until(deleted.GetStatusAsync, s => s?.Waiting == "depends_on", "waiting for its parent", Bound);

            var cancel = await cancelled.CancelAsync();
            Assert.Equal((JobCommandStatus.Done, JobStatus.Cancelled), (cancel.Status, cancel.Job!.Status));
            Assert.Equal(JobCommandStatus.Done, (await deleted.DeleteAsync()).Status);
            Assert.Null(await deleted.GetStatusAsync());
        }
        finally
        {
            await parent.CancelAsync();
        }

        Assert.All(ProbeLedger.Runs(scope), run => Assert.Equal(parentId, run.JobId)); // neither child ran
    }

    [Fact]
    public async Task AChildWhoseActivationIsLostWhileItWaits_AsksAgain_AndStillRunsOnce()
    {
        var (scope, gate) = (ProbeLedger.NewScope(), Guid.NewGuid().ToString("N"));
        var (parent, parentId) = await SubmitAsync(Specs.GatedProbe(scope, gate));
        var (child, childId) = await SubmitAsync(Specs.Probe(scope, seconds: 0) with { DependsOn = [parentId] });
        await Eventually.Until(child.GetStatusAsync, s => s?.Waiting == "depends_on", "waiting for its parent", Bound);

        await child.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        await parent.Cast<IGrainManagementExtension>().DeactivateOnIdle(); // its long asks are answered, and asked again
        await Eventually.Until(child.GetStatusAsync, s => s?.Waiting == "depends_on", "the new activation waiting for its parent", Bound);

        ProbeLedger.Open(gate);
        Assert.Equal(JobStatus.Succeeded, (await child.UntilTerminal(Bound))!.Status);
        Assert.Single(ProbeLedger.Runs(scope), r => r.JobId == childId);
    }

    [Fact]
    public async Task ADeletedParent_IsKeptHiddenWhileAChildWaits_WhichStillGetsItsResult()
    {
        var (scope, gate) = (ProbeLedger.NewScope(), Guid.NewGuid().ToString("N"));
        var (first, firstId) = await SubmitAsync(Specs.Probe(scope, seconds: 0));
        Assert.Equal(JobStatus.Succeeded, (await first.UntilTerminal(Bound))!.Status);
        var (second, secondId) = await SubmitAsync(Specs.GatedProbe(scope, gate));
        var (child, childId) = await SubmitAsync(Specs.Probe(scope, seconds: 0) with { DependsOn = [firstId, secondId] });
        await Eventually.Until(child.GetStatusAsync, s => s?.WaitingFor is [var only] && only == secondId, "waiting for the second only", Bound);

        Assert.Equal(JobCommandStatus.Done, (await first.DeleteAsync()).Status);
        Assert.Null(await first.GetStatusAsync()); // gone for clients
        await child.Cast<IGrainManagementExtension>().DeactivateOnIdle(); // its next activation must learn the first's end again

        ProbeLedger.Open(gate);
        Assert.Equal(JobStatus.Succeeded, (await child.UntilTerminal(Bound))!.Status);
        var run = Assert.Single(ProbeLedger.Runs(scope), r => r.JobId == childId);
        Assert.Equal([(firstId, JobStatus.Succeeded), (secondId, JobStatus.Succeeded)], run.Parents.Select(p => (p.JobId, p.Status!.Value)));
        Assert.Equal(JobStatus.Succeeded, (await second.GetStatusAsync())!.Status);

        // Once the child needs it no more, the deleted parent goes for good (the sweep finishes it).
        await Eventually.Until(() => first.AwaitEndAsync(TimeSpan.Zero), end => end?.Status is null, "the deleted parent removed", Bound);
    }

    [Fact]
    public async Task AParentDeletedBeforeItRan_IsGone_AndItsChildrenFollowTheirRunIf()
    {
        var scope = ProbeLedger.NewScope();
        var (parent, parentId) = await SubmitAsync(Specs.Probe(scope, seconds: 0) with { RunAt = DateTimeOffset.UtcNow.AddHours(1) });
        var (strict, _) = await SubmitAsync(Specs.Probe(scope, seconds: 0) with { DependsOn = [parentId] });
        var (lenient, lenientId) = await SubmitAsync(Specs.Probe(scope, seconds: 0) with { DependsOn = [parentId], RunIf = RunIf.Finished });
        await Eventually.Until(strict.GetStatusAsync, s => s?.Waiting == "depends_on", "waiting for its parent", Bound);

        Assert.Equal(JobCommandStatus.Done, (await parent.DeleteAsync()).Status);

        var strictEnd = await strict.UntilTerminal(Bound);
        Assert.Equal(JobStatus.Cancelled, strictEnd!.Status);
        Assert.Contains($"{parentId} no longer exists", strictEnd.Error);
        Assert.Equal(JobStatus.Succeeded, (await lenient.UntilTerminal(Bound))!.Status);
        Assert.Null(Assert.Single(ProbeLedger.Runs(scope), r => r.JobId == lenientId).Parents.Single().Status); // ended by going
        Assert.Null((await parent.AwaitEndAsync(TimeSpan.Zero))!.Status); // removed, not kept
    }

    private async Task<(IJobGrain Job, string Id)> SubmitAsync(JobSpec spec)
    {
        var job = fixture.NewJob(out var id);
        var reply = await job.SubmitAsync(spec);
        Assert.True(reply.Status == SubmitStatus.Accepted, $"{reply.Status}: {reply.Error}");
        return (job, id);
    }
}
