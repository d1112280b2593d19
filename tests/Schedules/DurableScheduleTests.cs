using Microsoft.Extensions.Time.Testing;
using Orleans.Runtime.Placement;
using Orleans.TestingHost;

namespace Praison.Orleans.Tests.Schedules;

/// <summary>
/// Schedules on a durable store (Azure, PostgreSQL: the same tests on each): a silo lost between firings,
/// and a whole cluster stopped over its firings, on a schedule clock the test moves (Orleans' own clock is real).
/// </summary>
public abstract class DurableScheduleTests(DurableClusterFixture fixture)
{
    private static readonly DateTimeOffset TenOClock = new(2027, 2, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task KilledSilo_ItsScheduleFiresTheNextTimeOnce_OnTheSurvivor()
    {
        var clock = new FakeTimeProvider(TenOClock.AddSeconds(-30));
        await using var cluster = await fixture.StartClusterAsync(NewServiceId(), silos: 2, scheduleClock: clock);
        var doomed = cluster.Silos[^1];
        var (schedule, id) = NewSchedule(cluster);
        await CreateOnAsync(schedule, doomed, Hourly(ScheduleCatchUp.One));
        clock.SetUtcNow(TenOClock.AddSeconds(1));
        var first = await UntilAsync(schedule, s => s.Runs == 1, "the 10:00 firing");

        await cluster.KillSiloAsync(doomed);
        clock.SetUtcNow(TenOClock.AddHours(1).AddSeconds(1));
        var second = await Eventually.Until(
            () => SiloLoss.UnlessItMetTheDeadSilo(schedule.GetAsync), s => s?.Runs == 2, "the 11:00 firing, on the survivor", TimeSpan.FromSeconds(90));

        Assert.Equal((TenOClock, TenOClock.AddHours(1), 0L), (first.LastRunAt, second!.LastRunAt, second.Skipped));
        var jobs = await JobsOfAsync(cluster, id);
        Assert.Equal(2, jobs.Count);
        Assert.Equal(new[] { first.LastJobId, second.LastJobId }.Order(), jobs.Select(j => j.JobId).Order());
    }

    [Fact]
    public async Task WholeClusterStoppedOverItsFirings_OnRestartEachScheduleFiresOnceOrSkips_ByCatchUp()
    {
        var clock = new FakeTimeProvider(TenOClock.AddSeconds(-30));
        var serviceId = NewServiceId();
        string one, none;
        await using (var before = await fixture.StartClusterAsync(serviceId, silos: 1, scheduleClock: clock))
        {
            (var catchUpOne, one) = NewSchedule(before);
            (var catchUpNone, none) = NewSchedule(before);
            await catchUpOne.CreateAsync(Hourly(ScheduleCatchUp.One));
            await catchUpNone.CreateAsync(Hourly(ScheduleCatchUp.None));
        }

        clock.SetUtcNow(TenOClock.AddHours(3).AddMinutes(10)); // 10:00 to 13:00 pass with no silo running
        await using var after = await fixture.StartClusterAsync(serviceId, silos: 1, scheduleClock: clock);
        var caughtUp = await UntilAsync(after.Client.Schedule(JobKeys.DefaultTenant, one), s => s.LastRunAt is not null, "the catch_up one schedule");
        var skipped = await UntilAsync(after.Client.Schedule(JobKeys.DefaultTenant, none), s => s.LastRunAt is not null, "the catch_up none schedule");

        Assert.Equal((TenOClock.AddHours(3), 1L, 3L), (caughtUp.LastRunAt, caughtUp.Runs, caughtUp.Skipped));
        Assert.Equal((TenOClock.AddHours(3), 0L, 4L), (skipped.LastRunAt, skipped.Runs, skipped.Skipped));
        Assert.Equal(caughtUp.LastJobId, Assert.Single(await JobsOfAsync(after, one)).JobId);
        Assert.Empty(await JobsOfAsync(after, none));
    }

    private static string NewServiceId() => "sched-" + Guid.NewGuid().ToString("N")[..8];

    private static (IScheduleGrain Grain, string Id) NewSchedule(InProcessTestCluster cluster)
    {
        var id = "durable-" + Guid.NewGuid().ToString("N")[..12];
        return (cluster.Client.Schedule(JobKeys.DefaultTenant, id), id);
    }

    private static ScheduleSpec Hourly(ScheduleCatchUp catchUp) =>
        new("0 * * * *", "UTC", Specs.Recipe("echo"), ScheduleOverlap.Allow, catchUp, Paused: false);

    /// <summary>Creates with a placement hint, so the schedule's grain activates on <paramref name="silo"/>.</summary>
    private static async Task CreateOnAsync(IScheduleGrain schedule, InProcessSiloHandle silo, ScheduleSpec spec)
    {
        RequestContext.Set(IPlacementDirector.PlacementHintKey, silo.SiloAddress);
        try
        {
            Assert.Equal(ScheduleCommandStatus.Created, (await schedule.CreateAsync(spec)).Status);
        }
        finally
        {
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        }
    }

    private static Task<ScheduleSnapshot> UntilAsync(IScheduleGrain schedule, Func<ScheduleSnapshot, bool> done, string what) =>
        Eventually.Until(async () => (await schedule.GetAsync())!, done, what, TimeSpan.FromSeconds(90));

    private static async Task<IReadOnlyList<JobSnapshot>> JobsOfAsync(InProcessTestCluster cluster, string scheduleId) =>
        (await cluster.Client.GetGrain<IJobQueryGrain>(0).ListAsync(new JobListQuery(JobKeys.DefaultTenant, null, null, 1, 100, scheduleId))).Jobs;
}

[Collection(AzureClusterCollection.Name)]
[Trait("Category", "Storage")]
public sealed class AzureDurableScheduleTests(AzureClusterFixture fixture) : DurableScheduleTests(fixture);

[Collection(PostgresClusterCollection.Name)]
[Trait("Category", "Storage")]
public sealed class PostgresDurableScheduleTests(PostgresClusterFixture fixture) : DurableScheduleTests(fixture);
