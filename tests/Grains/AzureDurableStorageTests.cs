using Praison.Orleans.Grains.Index;

namespace Praison.Orleans.Tests.Grains;

/// <summary>The durable-storage tests on Azure Storage (Azurite), and what a job costs there in requests.</summary>
[Collection(AzureClusterCollection.Name)]
[Trait("Category", "Storage")]
public sealed class AzureDurableStorageTests(AzureClusterFixture fixture) : DurableStorageTests(fixture)
{
    [Fact]
    public async Task KilledSiloMidRun_NoKeyEverRunsMoreThanItsLimit_EveryJobSucceeds_AndEveryLeaseComesBack()
    {
        await using var cluster = await fixture.StartClusterAsync(NewServiceId(), silos: 3, slotsPerSilo: 4);
        var run = Guid.NewGuid().ToString("N");
        var keys = new (string Key, int Limit, string Scope)[]
        {
            ($"two:{run}", 2, ProbeLedger.NewScope()), ($"three:{run}", 3, ProbeLedger.NewScope()), ($"five:{run}", 5, ProbeLedger.NewScope()),
        };
        var jobs = await Task.WhenAll(Enumerable.Range(0, 60).Select(async i =>
        {
            var (key, _, scope) = keys[i % keys.Length];
            var job = cluster.Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, JobIds.New()));
            await job.SubmitAsync(Specs.Probe(scope, seconds: 0.3) with { ConcurrencyKey = key });
            return job;
        }));
        var doomed = cluster.Silos[^1];
        var doomedSilo = doomed.SiloAddress.ToParsableString();
        await Eventually.Until(
            () => keys.Any(k => ProbeLedger.Runs(k.Scope).Any(r => r.Silo == doomedSilo && r.ReturnedAt is null)),
            "a job holding a lease to run on the silo about to be killed");

        var killedAt = DateTimeOffset.UtcNow; // its probes stop here: an in-process silo's tasks outlive its kill, a process's would not
        await cluster.KillSiloAsync(doomed);

        var ends = await Task.WhenAll(jobs.Select(job => job.UntilTerminalAfterSiloLoss(TimeSpan.FromMinutes(3))));
        Assert.All(ends, end => Assert.Equal(JobStatus.Succeeded, end!.Status));
        foreach (var (key, limit, scope) in keys)
        {
            var most = MostAtOnce(ProbeLedger.Runs(scope), doomedSilo, killedAt);
            Assert.True(most <= limit, $"{most} jobs of {key} ran at once; its limit is {limit}");
            await Eventually.Until(
                () => SiloLoss.UnlessItMetTheDeadSilo(() => cluster.Client.ConcurrencyKey(JobKeys.DefaultTenant, key).GetCountsAsync()),
                counts => counts is { Running: 0, Waiting: 0 },
                $"every lease of {key} to be back",
                TimeSpan.FromSeconds(60));
        }
    }

    /// <summary>The most runs that overlapped, a run on the killed silo ending when it was killed.</summary>
    private static int MostAtOnce(IReadOnlyList<ProbeRun> runs, string killedSilo, DateTimeOffset killedAt)
    {
        var edges = runs.SelectMany(r =>
        {
            var end = r.Silo == killedSilo && (r.ReturnedAt is null || r.ReturnedAt > killedAt) ? killedAt : r.ReturnedAt ?? DateTimeOffset.MaxValue;
            return new[] { (At: r.StartedAt, Step: 1), (At: end, Step: -1) };
        });
        var (now, most) = (0, 0);
        foreach (var (_, step) in edges.OrderBy(e => e.At).ThenBy(e => e.Step)) // an end before a start at the same instant
        {
            most = Math.Max(most, now += step);
        }

        return most;
    }

    [Fact]
    public async Task FinishedJob_CostsThreeRecordWritesAndTwoIndexTransactions_AndNoIndexEntryRead()
    {
        // What a job itself writes: no progress checkpoint within these jobs' run (the running entry goes
        // to the index only at one) and no sweep (which may rewrite the entry of a job it meets mid-run),
        // however slowly a loaded machine runs them.
        await using var cluster = await fixture.StartClusterAsync(
            NewServiceId(), silos: 1, checkpointInterval: TimeSpan.FromHours(1), sweepPeriod: TimeSpan.FromHours(1));
        await RunEchoJobsAsync(cluster, 1); // creates the index table and anything else made on first use
        const int Jobs = 20;
        await fixture.Azurite.SettleAsync(); // the start's requests are all counted before
        var before = fixture.Azurite.Requests.Snapshot();

        var jobs = Enumerable.Range(0, Jobs).Select(_ => cluster.Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, JobIds.New()))).ToList();
        await Task.WhenAll(jobs.Select(job => job.SubmitAsync(Specs.Recipe("echo"))));
        // Waited for by the requests themselves: polling a job would read a finished one back from storage.
        await Eventually.Until(
            () => Task.FromResult(fixture.Azurite.Requests.Since(before)),
            n => n.GetValueOrDefault("PUT grainstate") >= 3 * Jobs && n.GetValueOrDefault("POST $batch") >= 2 * Jobs,
            "every job's last record and index write");
        await fixture.Azurite.SettleAsync();

        // Membership and the reminder service read their tables on their own schedules (the reminder
        // service's first read of its range may come late on a loaded machine): not what jobs cost.
        var requests = fixture.Azurite.Requests.Since(before)
            .Where(w => !w.Key.EndsWith(" OrleansSiloInstances", StringComparison.Ordinal) && !w.Key.EndsWith(" OrleansReminders", StringComparison.Ordinal))
            .ToDictionary();
        // The silo reads each of its tally rows once, at its first write to it (a row per lane and
        // partition; AzureTableTallies), and never a job's index entry.
        Assert.InRange(requests.Remove("GET PraisonJobIndex", out var tallyReads) ? tallyReads : 0, 0, AzureTableJobIndex.Partitions * AzureTableTallies.Lanes);
        Assert.Equal(
            new Dictionary<string, long> { ["PUT grainstate"] = 3 * Jobs, ["POST $batch"] = 2 * Jobs },
            requests);
        foreach (var job in jobs)
        {
            Assert.Equal(JobStatus.Succeeded, (await job.GetStatusAsync())!.Status);
        }
    }
}
