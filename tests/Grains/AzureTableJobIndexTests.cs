using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Praison.Orleans.Grains.Execution;
using Praison.Orleans.Grains.Index;

namespace Praison.Orleans.Tests.Grains;

/// <summary>The Azure Table job index against Azurite: ordering, filters, paging, versions, retention.</summary>
[Collection(AzureClusterCollection.Name)]
[Trait("Category", "Storage")]
public sealed partial class AzureTableJobIndexTests(AzureClusterFixture fixture)
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

    public static TheoryData<string, string, string, string> HugeTexts => new()
    {
        // Escaped as \u0001 in the row's snapshot: six characters each, far past a table property's 32 Ki.
        { "control characters", new string('\u0001', 100_000), "yaml:" + new string('a', 10_000), "step" },
        // An agent_file of 5,000 '<': its agent id and its error ("agent_file not found: <<<…") escape to six each.
        { "angle brackets", "agent_file not found: " + new string('<', 5_000), "yaml:" + new string('<', 5_000), "step" },
        // An agents file whose task name has 40,000 characters: the step.
        { "a long step", "no LLM configured", "yaml:inline", new string('t', 40_000) },
    };

    [Theory]
    [MemberData(nameof(HugeTexts))]
    public async Task AnEntryWhoseSnapshotWouldPassTheRowLimit_IsWrittenCut_AndCountedAsItsStatus(string kind, string error, string agentId, string step)
    {
        var (index, tenant, _) = NewIndex();
        var queued = await index.UpsertAsync(Entry(tenant, 1, JobStatus.Queued, version: 1));
        var failed = Entry(tenant, 1, JobStatus.Failed, version: 2);
        failed = failed with { Job = failed.Job with { Error = error, AgentId = agentId, Progress = failed.Job.Progress with { CurrentStep = step } } };

        await index.UpsertAsync(failed, queued);

        var listed = Assert.Single((await index.QueryAsync(new JobListQuery(tenant, JobStatus.Failed, null, 1, 10))).Jobs);
        var stats = await index.StatsAsync(tenant);
        Assert.True(AzureTableJobIndex.SnapshotJson(listed).Length <= AzureTableJobIndex.MaxSnapshotChars, kind);
        Assert.StartsWith(listed.Error!, error, StringComparison.Ordinal);
        Assert.StartsWith(listed.AgentId!, agentId, StringComparison.Ordinal);
        Assert.StartsWith(listed.Progress.CurrentStep!, step, StringComparison.Ordinal);
        Assert.Equal((1, 0), (stats.StatusCounts[JobStatus.Failed], stats.StatusCounts[JobStatus.Queued]));
        Assert.Equal(0, await index.LiveCountAsync(tenant));
        await index.RemoveAsync(tenant, JobId(1), failed.Job.CreatedAt);
        Assert.Equal(0, (await index.StatsAsync(tenant)).TotalJobs);
    }

    [Fact]
    public async Task ExpiredJobs_AreHiddenFromPages_AndCountedUntilRemoved()
    {
        var (index, tenant, clock) = NewIndex();
        await index.UpsertAsync(Entry(tenant, 1, JobStatus.Succeeded));
        await index.UpsertAsync(Entry(tenant, 2, JobStatus.Running));

        clock.SetUtcNow(Start.AddDays(2));

        var page = await index.QueryAsync(new JobListQuery(tenant, null, null, 1, 10));
        Assert.Equal([JobId(2)], page.Jobs.Select(j => j.JobId));
        Assert.Equal(2, (await index.StatsAsync(tenant)).TotalJobs); // the tallies count it until the sweep removes it
        await index.RemoveAsync(tenant, JobId(1), Start.AddMinutes(1));
        Assert.Equal(1, (await index.StatsAsync(tenant)).TotalJobs);
    }

    [Fact]
    public async Task StaleWriter_ReadsAndNeverReplacesANewerEntry()
    {
        var (index, tenant, _) = NewIndex();
        var first = await index.UpsertAsync(Entry(tenant, 1, JobStatus.Queued, version: 1));
        await index.UpsertAsync(Entry(tenant, 1, JobStatus.Succeeded, version: 3)); // another silo, without first's ETag

        await index.UpsertAsync(Entry(tenant, 1, JobStatus.Running, version: 2), first); // first's ETag is stale now

        Assert.Equal(JobStatus.Succeeded, Assert.Single((await index.QueryAsync(new JobListQuery(tenant, null, null, 1, 10))).Jobs).Status);
        Assert.Equal(3, Assert.Single(await DueAfterRetentionAsync(index, tenant)).Version);
    }

    [Fact]
    public async Task OneTenantsJobs_SpreadOverAllItsPartitions()
    {
        var (index, tenant, _) = NewIndex();
        for (var i = 0; i < 64; i++)
        {
            await index.UpsertAsync(Entry(tenant, i, JobStatus.Queued));
        }

        var partitions = new Dictionary<string, int>();
        await foreach (var row in Table().QueryAsync<TableEntity>(r => r.GetString("Tenant") == tenant, select: ["PartitionKey"]))
        {
            partitions[row.PartitionKey] = partitions.GetValueOrDefault(row.PartitionKey) + 1; // a job row or its due row
        }

        Assert.Equal(AzureTableJobIndex.Partitions, partitions.Count);
        Assert.Equal(2 * 64, partitions.Values.Sum());
        Assert.Equal(64, (await index.QueryAsync(new JobListQuery(tenant, null, null, 1, 10))).Total);
    }

    [Fact]
    public async Task Sweep_ReadsOnlyDueRows_AFinishedJobIsDueWhenItsRetentionEnds_AndAFailedWebhookAtItsNextRound()
    {
        var queries = new QueriesSent();
        var (index, tenant, clock) = NewIndex(queries);
        for (var i = 0; i < 40; i++)
        {
            await index.UpsertAsync(Entry(tenant, i, JobStatus.Succeeded)); // finished at Start + i minutes + 1 s
        }

        await index.UpsertAsync(Entry(tenant, 100, JobStatus.Running));
        var delayed = Entry(tenant, 101, JobStatus.Queued);
        await index.UpsertAsync(delayed with { Job = delayed.Job with { ScheduledFor = Start.AddHours(3) } });
        var removed = Entry(tenant, 102, JobStatus.Succeeded);
        await index.UpsertAsync(removed with { Removed = true, Version = 2 });
        var hooked = Entry(tenant, 103, JobStatus.Succeeded);
        await index.UpsertAsync(hooked with { Job = hooked.Job with { Webhook = new WebhookDelivery(true, null, null) } }); // its first round: now
        var retrying = Entry(tenant, 104, JobStatus.Failed);
        await index.UpsertAsync(retrying with { Job = retrying.Job with { Webhook = new WebhookDelivery(true, null, "HTTP 503", Start.AddHours(2)) } });

        queries.Filters.Clear(); // the writes' own reads (a tally row per lane) are not the sweep's
        var dueNow = await OfTenantAsync(index, tenant, clock.GetUtcNow()); // Start + 1 h
        var dueLater = await OfTenantAsync(index, tenant, Start.AddDays(1).AddMinutes(5).AddSeconds(1));

        Assert.Equal([JobId(100), JobId(102), JobId(103)], dueNow);
        Assert.Equal([.. Enumerable.Range(0, 6).Select(JobId), JobId(100), JobId(101), JobId(102), JobId(103), JobId(104)], dueLater);

        // A key range and nothing else: the table service seeks to the due rows, never scanning the
        // finished jobs that wait out their retention (a filter on any other column would read them all).
        Assert.All(queries.Filters, filter => Assert.Matches(@"^RowKey ge 'due_' and RowKey lt 'due_\d{19}_'$", filter));
        Assert.Equal(2, queries.Filters.Count);
    }

    [Fact]
    public async Task Removal_LeavesNoRowBehind()
    {
        var (index, tenant, _) = NewIndex();
        var written = await index.UpsertAsync(Entry(tenant, 1, JobStatus.Queued));
        written = await index.UpsertAsync(Entry(tenant, 1, JobStatus.Succeeded, version: 2), written);
        await index.UpsertAsync(Entry(tenant, 2, JobStatus.Succeeded, version: 2));

        await index.RemoveAsync(tenant, JobId(1), Start.AddMinutes(1), written);
        await index.RemoveAsync(tenant, JobId(2), Start.AddMinutes(2)); // as the sweep does: nothing kept
        await index.RemoveAsync(tenant, JobId(2), Start.AddMinutes(2)); // repeated

        Assert.Empty(await Table().QueryAsync<TableEntity>(r => r.GetString("Tenant") == tenant).ToListAsync());
    }

    [Fact]
    public async Task Tallies_CountEachRowOnce_ThroughTransitionsRepeatsStaleWritesTwoWritersAndRemovals()
    {
        var (index, tenant, _) = NewIndex();
        var (other, _, _) = NewIndex(); // a second silo's index: its own tally rows
        for (var i = 0; i < 48; i++)
        {
            var key = i % 4 == 0;
            var queued = await index.UpsertAsync(Entry(tenant, i, JobStatus.Queued, key: key));
            var running = await index.UpsertAsync(Entry(tenant, i, JobStatus.Running, key: key, version: 2), queued);
            var end = Entry(tenant, i, (JobStatus)(2 + i % 3), key: key, version: 3);
            var writer = i % 2 == 0 ? index : other; // the job moved to another silo before it ended
            var ended = await writer.UpsertAsync(end, i % 2 == 0 ? running : null);
            await writer.UpsertAsync(end); // repeated, as after a write that reported failure
            await index.UpsertAsync(Entry(tenant, i, JobStatus.Running, key: key, version: 2), queued); // a stale writer: changes nothing
            if (i % 6 == 1)
            {
                await writer.UpsertAsync(end with { Removed = true, Version = 4 }, ended); // hidden (webhook pending)
            }
            else if (i % 6 == 3)
            {
                await other.RemoveAsync(tenant, JobId(i), end.Job.CreatedAt); // removed by the sweep, twice
                await other.RemoveAsync(tenant, JobId(i), end.Job.CreatedAt);
            }
        }

        var stats = await index.StatsAsync(tenant);

        Assert.Equal(Describe(await CountRowsAsync(tenant)), Describe(stats));
        Assert.Equal((32, 0, 0), (stats.TotalJobs, stats.StatusCounts[JobStatus.Queued], stats.StatusCounts[JobStatus.Running]));
        Assert.Equal(32, (await other.QueryAsync(new JobListQuery(tenant, null, null, 1, 5))).Total);
        Assert.Equal(stats.StatusCounts[JobStatus.Failed], (await index.QueryAsync(new JobListQuery(tenant, JobStatus.Failed, null, 1, 5))).Total);
    }

    [Fact]
    public async Task Tallies_StayExact_WhenTransactionsCommitAndThenReportFailure()
    {
        var faults = new CommitThenFail(every: 4);
        var (index, tenant, _) = NewIndex(faults);
        for (var i = 0; i < 40; i++)
        {
            JobIndexWrite? previous = null;
            foreach (var (status, version) in new[] { (JobStatus.Queued, 1L), (JobStatus.Running, 2L), ((JobStatus)(2 + i % 3), 3L) })
            {
                var entry = Entry(tenant, i, status, key: i % 5 == 0, version: version);
                for (var tries = 1; ; tries++)
                {
                    try
                    {
                        previous = await index.UpsertAsync(entry, previous);
                        break;
                    }
                    catch (CommitThenFail.ReportedFailure) when (tries < 10)
                    {
                        previous = null; // as the grain: its next write reads what is there
                    }
                }
            }
        }

        Assert.True(faults.Failed >= 20, $"only {faults.Failed} transactions reported failure after committing");
        Assert.Equal(Describe(await CountRowsAsync(tenant)), Describe(await index.StatsAsync(tenant)));
        Assert.Equal(40, (await index.StatsAsync(tenant)).TotalJobs);
    }

    [Fact]
    public async Task ALostWritersTallies_AreFoldedIntoTheNextWriters_AndTheLostOneStartsAgainIfItWasNot()
    {
        var (first, tenant, _) = NewIndex();
        var (next, _, _) = NewIndex();
        next.Tallies.FoldAfter = TimeSpan.Zero; // every other writer's row counts as left behind
        for (var i = 0; i < 64; i++)
        {
            await first.UpsertAsync(Entry(tenant, i, JobStatus.Succeeded));
        }

        for (var i = 64; i < 128; i++)
        {
            await next.UpsertAsync(Entry(tenant, i, JobStatus.Failed));
        }

        var writersAfterFold = await TallyWritersAsync(tenant);
        for (var i = 128; i < 160; i++)
        {
            await first.UpsertAsync(Entry(tenant, i, JobStatus.Cancelled)); // its rows are gone: it starts new ones
        }

        Assert.Single(writersAfterFold);
        var stats = await first.StatsAsync(tenant);
        Assert.Equal(Describe(await CountRowsAsync(tenant)), Describe(stats));
        Assert.Equal((64, 64, 32), (stats.StatusCounts[JobStatus.Succeeded], stats.StatusCounts[JobStatus.Failed], stats.StatusCounts[JobStatus.Cancelled]));
        Assert.Equal(2, (await TallyWritersAsync(tenant)).Count);
    }

    [Fact]
    public async Task StatsAndUnfilteredTotals_ReadTheTallies_AndAPageReadsNoFurtherThanItself()
    {
        var queries = new QueriesSent();
        var (index, tenant, _) = NewIndex(queries);
        for (var i = 0; i < 200; i++)
        {
            await index.UpsertAsync(Entry(tenant, i, JobStatus.Succeeded));
        }

        // 200 tally changes, and each tally row read once at most: the writer keeps its rows' ETags.
        Assert.InRange(queries.Filters.Count(filter => filter.Contains("'tally_'", StringComparison.Ordinal)), 1, AzureTableJobIndex.Partitions * AzureTableTallies.Lanes);
        queries.Filters.Clear();
        var stats = await index.StatsAsync(tenant);
        var statsQueries = queries.Filters.ToList();
        queries.Filters.Clear();
        var page = await index.QueryAsync(new JobListQuery(tenant, JobStatus.Succeeded, null, 2, 10));

        Assert.Equal(200, stats.TotalJobs);
        Assert.Equal(AzureTableJobIndex.Partitions, statsQueries.Count);
        Assert.All(statsQueries, filter => Assert.Matches(@"^PartitionKey eq '[^']+' and RowKey ge 'tally_' and RowKey lt 'tally`'$", filter));
        Assert.Equal(200, page.Total);
        Assert.Equal(Enumerable.Range(180, 10).Reverse().Select(JobId), page.Jobs.Select(j => j.JobId));
        var jobRowQueries = queries.Sent.Where(q => q.Filter.Contains("RowKey lt 'due_'", StringComparison.Ordinal)).ToList();
        Assert.Equal(AzureTableJobIndex.Partitions, jobRowQueries.Count);
        Assert.All(jobRowQueries, q => Assert.Equal("20", q.Top)); // page 2 of 10: each partition's newest 20 at most
    }

    /// <summary>The tenant's job rows counted one by one, as the tallies should count them.</summary>
    private async Task<JobStoreStats> CountRowsAsync(string tenant)
    {
        var counts = Enum.GetValues<JobStatus>().ToDictionary(status => status, _ => 0);
        var keys = 0;
        await foreach (var row in Table().QueryAsync<TableEntity>(r => r.GetString("Tenant") == tenant && r.RowKey.CompareTo("due_") < 0))
        {
            if (row.GetBoolean("Removed") != true)
            {
                counts[JobStatusExtensions.TryParseWireName(row.GetString("Status"), out var status) ? status : throw new InvalidDataException(row.GetString("Status"))]++;
                keys += row.GetBoolean("HasIdempotencyKey") == true ? 1 : 0;
            }
        }

        return new JobStoreStats(counts.Values.Sum(), keys, counts);
    }

    private static string Describe(JobStoreStats stats) =>
        $"{stats.TotalJobs} jobs, {stats.IdempotencyKeys} keys, " + string.Join(", ", stats.StatusCounts.OrderBy(c => c.Key).Select(c => $"{c.Key} {c.Value}"));

    /// <summary>The writers (silo processes) with tally rows in the tenant's partitions.</summary>
    private async Task<HashSet<string>> TallyWritersAsync(string tenant)
    {
        var writers = new HashSet<string>();
        for (var shard = 0; shard < AzureTableJobIndex.Partitions; shard++)
        {
            await foreach (var row in Table().QueryAsync<TableEntity>(AzureTableTallies.RangeOf($"{tenant}|{shard:x}"), select: ["RowKey"]))
            {
                writers.Add(row.RowKey.Split('_')[1]);
            }
        }

        return writers;
    }

    private static async Task<List<string>> OfTenantAsync(AzureTableJobIndex index, string tenant, DateTimeOffset now) =>
        (await index.DueAsync(now)).Where(e => e.Tenant == tenant).Select(e => e.Job.JobId).Order(StringComparer.Ordinal).ToList();

    private static async Task<List<JobIndexEntry>> DueAfterRetentionAsync(AzureTableJobIndex index, string tenant) =>
        (await index.DueAsync(Start.AddDays(30))).Where(e => e.Tenant == tenant).ToList();

    private TableClient Table() => new(fixture.Azurite.ConnectionString, AzureTableJobIndex.TableName);

    private (AzureTableJobIndex Index, string Tenant, FakeTimeProvider Clock) NewIndex(Azure.Core.Pipeline.HttpPipelinePolicy? policy = null)
    {
        var clock = new FakeTimeProvider(Start.AddHours(1));
        var clientOptions = new TableClientOptions();
        if (policy is not null)
        {
            clientOptions.AddPolicy(policy, Azure.Core.HttpPipelinePosition.PerCall);
        }

        var index = new AzureTableJobIndex(
            new TableServiceClient(fixture.Azurite.ConnectionString, clientOptions), Options.Create(new JobsOptions()), clock);
        return (index, "t" + Guid.NewGuid().ToString("N")[..12], clock);
    }
}
