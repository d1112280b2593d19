using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Praison.Orleans.Grains.Execution;
using Praison.Orleans.Grains.Index;

namespace Praison.Orleans.Tests.Grains;

/// <summary>The Azure Table job index against Azurite: ordering, filters, paging, versions, retention.</summary>
[Collection(AzureClusterCollection.Name)]
[Trait("Category", "Storage")]
public sealed class AzureTableJobIndexTests(AzureClusterFixture fixture)
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Query_NewestFirst_FiltersPagesAndTotals()
    {
        var (index, tenant, _) = NewIndex();
        for (var i = 0; i < 25; i++)
        {
            var status = i % 5 == 0 ? JobStatus.Failed : JobStatus.Succeeded;
            await index.UpsertAsync(Entry(tenant, i, status, session: i % 2 == 0 ? "even" : "odd", key: i < 3));
        }

        var first = await index.QueryAsync(new JobListQuery(tenant, null, null, 1, 10));
        var third = await index.QueryAsync(new JobListQuery(tenant, null, null, 3, 10));
        var failed = await index.QueryAsync(new JobListQuery(tenant, JobStatus.Failed, null, 1, 100));
        var even = await index.QueryAsync(new JobListQuery(tenant, null, "even", 1, 100));
        var stats = await index.StatsAsync(tenant);

        Assert.Equal(25, first.Total);
        Assert.Equal(Enumerable.Range(15, 10).Reverse().Select(JobId), first.Jobs.Select(j => j.JobId));
        Assert.Equal(Enumerable.Range(0, 5).Reverse().Select(JobId), third.Jobs.Select(j => j.JobId));
        Assert.Equal(5, failed.Total);
        Assert.Equal(13, even.Total);
        Assert.Equal((25, 3, 5, 20), (stats.TotalJobs, stats.IdempotencyKeys, stats.StatusCounts[JobStatus.Failed], stats.StatusCounts[JobStatus.Succeeded]));
        Assert.Equal(0, (await index.StatsAsync("someone-else")).TotalJobs);
    }

    [Fact]
    public async Task Upsert_NeverReplacesANewerVersion_AndRemoveDeletes()
    {
        var (index, tenant, _) = NewIndex();
        await index.UpsertAsync(Entry(tenant, 1, JobStatus.Succeeded, version: 5));

        await index.UpsertAsync(Entry(tenant, 1, JobStatus.Running, version: 3));
        var afterLateWrite = await index.QueryAsync(new JobListQuery(tenant, null, null, 1, 10));
        await index.RemoveAsync(tenant, JobId(1), Start.AddMinutes(1));
        var afterRemove = await index.QueryAsync(new JobListQuery(tenant, null, null, 1, 10));

        Assert.Equal(JobStatus.Succeeded, Assert.Single(afterLateWrite.Jobs).Status);
        Assert.Equal(0, afterRemove.Total);
    }

    [Fact]
    public async Task EntryWithAHugeErrorOfControlCharacters_IsWrittenWithTheErrorCut()
    {
        // Escaped as \u0001 in the row's snapshot: six characters each, far past a table property's 32K.
        var (index, tenant, _) = NewIndex();
        var running = Entry(tenant, 1, JobStatus.Running, version: 1);
        await index.UpsertAsync(running);
        var failed = Entry(tenant, 1, JobStatus.Failed, version: 2);
        failed = failed with { Job = failed.Job with { Error = new string('\u0001', 100_000), AgentId = "yaml:" + new string('a', 10_000) } };

        await index.UpsertAsync(failed);

        var listed = Assert.Single((await index.QueryAsync(new JobListQuery(tenant, null, null, 1, 10))).Jobs);
        Assert.Equal(JobStatus.Failed, listed.Status);
        Assert.Equal(new string('\u0001', AzureTableJobIndex.MaxRowText), listed.Error);
        Assert.Equal(AzureTableJobIndex.MaxRowText, listed.AgentId!.Length);
    }

    [Fact]
    public async Task ExpiredJobs_AreHidden()
    {
        var (index, tenant, clock) = NewIndex();
        await index.UpsertAsync(Entry(tenant, 1, JobStatus.Succeeded));
        await index.UpsertAsync(Entry(tenant, 2, JobStatus.Running));

        clock.SetUtcNow(Start.AddDays(2));

        var page = await index.QueryAsync(new JobListQuery(tenant, null, null, 1, 10));
        Assert.Equal([JobId(2)], page.Jobs.Select(j => j.JobId));
        Assert.Equal(1, (await index.StatsAsync(tenant)).TotalJobs);
    }

    private (AzureTableJobIndex Index, string Tenant, FakeTimeProvider Clock) NewIndex()
    {
        var clock = new FakeTimeProvider(Start.AddHours(1));
        var index = new AzureTableJobIndex(
            new TableServiceClient(fixture.Azurite.ConnectionString), Options.Create(new JobsOptions()), clock);
        return (index, "t" + Guid.NewGuid().ToString("N")[..12], clock);
    }

    private static string JobId(int i) => $"run_{i:x12}";

    private static JobIndexEntry Entry(string tenant, int i, JobStatus status, string? session = null, bool key = false, long version = 1)
    {
        var created = Start.AddMinutes(i);
        var job = new JobSnapshot(JobId(i), status, new JobProgress(status.IsTerminal() ? 100 : 10, null, 0, null), created,
            created, status.IsTerminal() ? created.AddSeconds(1) : null, "recipe:echo", session, null, 1, null);
        return new JobIndexEntry(tenant, job, version, key);
    }
}
