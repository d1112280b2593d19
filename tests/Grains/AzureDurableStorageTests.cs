using Praison.Orleans.Grains.Index;

namespace Praison.Orleans.Tests.Grains;

/// <summary>The durable-storage tests on Azure Storage (Azurite), and what a job costs there in requests.</summary>
[Collection(AzureClusterCollection.Name)]
[Trait("Category", "Storage")]
public sealed class AzureDurableStorageTests(AzureClusterFixture fixture) : DurableStorageTests(fixture)
{
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
