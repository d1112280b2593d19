namespace Praison.Orleans.Tests.Grains;

/// <summary>
/// Each <c>run_if</c> through the faults a parent's terminal write can meet (refused, held in flight,
/// committed then reported failed), for a parent that succeeds and one that fails: the child decides from
/// what storage holds, never from a write that did not land, and runs at most once. On memory storage and
/// on PostgreSQL (the derived classes below).
/// </summary>
public abstract class DependencyFaultTests(JobsClusterFixture fixture)
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    public static TheoryData<bool, RunIf, StorageFault> EveryRunIfThroughEachFault()
    {
        var cases = new TheoryData<bool, RunIf, StorageFault>();
        foreach (var succeeds in new[] { true, false })
        {
            foreach (var runIf in Enum.GetValues<RunIf>())
            {
                foreach (var fault in Enum.GetValues<StorageFault>())
                {
                    cases.Add(succeeds, runIf, fault);
                }
            }
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(EveryRunIfThroughEachFault))]
    public async Task AParentsEndingWrite_ThroughEachFault_TheChildFollowsWhatIsStored_Once(bool parentSucceeds, RunIf runIf, StorageFault fault)
    {
        var (scope, gate) = (ProbeLedger.NewScope(), Guid.NewGuid().ToString("N"));
        var parent = fixture.NewJob(out var parentId);
        Assert.Equal(SubmitStatus.Accepted, (await parent.SubmitAsync(Specs.GatedProbe(scope, gate, fail: parentSucceeds ? null : "asked to fail"))).Status);
        var child = fixture.NewJob(out var childId);
        Assert.Equal(SubmitStatus.Accepted, (await child.SubmitAsync(Specs.Probe(scope, seconds: 0) with { DependsOn = [parentId], RunIf = runIf })).Status);
        await Eventually.Until(child.GetStatusAsync, s => s?.Waiting == "depends_on", "the child waiting for its parent", Bound);
        var rule = StorageFaults.OnWrite(parentId, record => record.Status.IsTerminal(), fault);

        ProbeLedger.Open(gate);
        await rule.Reached.WaitAsync(Bound);
        if (fault == StorageFault.Hold)
        {
            // The parent's end is in flight, not stored: the child must still wait.
            var held = await child.GetStatusAsync();
            Assert.Equal((JobStatus.Queued, "depends_on"), (held!.Status, held.Waiting));
            Assert.Equal([parentId], held.WaitingFor!);
            rule.Release();
        }

        var parentEnd = await parent.UntilTerminal(Bound);
        Assert.Equal(parentSucceeds ? JobStatus.Succeeded : JobStatus.Failed, parentEnd!.Status);
        var childEnd = await child.UntilTerminal(Bound);
        var runs = runIf == RunIf.Finished || parentSucceeds;
        Assert.Equal(runs ? JobStatus.Succeeded : JobStatus.Cancelled, childEnd!.Status);
        var childRuns = ProbeLedger.Runs(scope).Where(r => r.JobId == childId).ToList();
        Assert.Equal(runs ? 1 : 0, childRuns.Count);
        if (runs)
        {
            Assert.True(childRuns[0].StartedAt >= parentEnd.CompletedAt, "the child started before its parent ended");
            Assert.Equal(parentEnd.Status, Assert.Single(childRuns[0].Parents).Status);
        }
        else
        {
            Assert.Contains(parentId, childEnd.Error);
        }

        Assert.Single(ProbeLedger.Runs(scope), r => r.JobId == parentId);
    }
}

[Collection(JobsClusterCollection.Name)]
public sealed class MemoryDependencyFaultTests(JobsClusterFixture fixture) : DependencyFaultTests(fixture);

[Collection(PostgresJobsClusterCollection.Name)]
[Trait("Category", "Storage")]
public sealed class PostgresDependencyFaultTests(PostgresJobsClusterFixture fixture) : DependencyFaultTests(fixture);
