using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;
using Praison.Orleans.Grains.Hosting;
using Praison.Orleans.Grains.Schedules;

namespace Praison.Orleans.Tests.Schedules;

/// <summary>
/// A one-silo cluster whose schedules read a fake clock (Orleans' own runs on real time): a test moves
/// the clock to a fire time, and the schedule's reminder (every second here) finds it due.
/// </summary>
public sealed class ScheduleClockFixture : IAsyncLifetime
{
    public static readonly DateTimeOffset Start = new(2027, 1, 4, 9, 59, 30, TimeSpan.Zero);

    public FakeTimeProvider Clock { get; } = new(Start);

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.UseInMemoryJobStorage().WithStorageFaults().AddPraisonJobs();
            silo.Services.AddKeyedSingleton<TimeProvider>(ScheduleGrain.Clock, Clock);
            silo.Services.Configure<SchedulesOptions>(o => o.CheckPeriod = TimeSpan.FromSeconds(1));
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }
}

/// <summary>Firings, missed firings and catch-up, and exactly one job per firing, on a clock the test moves.</summary>
public sealed class ScheduleClockTests(ScheduleClockFixture fixture) : IClassFixture<ScheduleClockFixture>, IAsyncLifetime
{
    private IGrainFactory Grains => fixture.Cluster.Client;

    // Tests share the clock: each starts from the fixture's start (plus a day per test, so times never go back).
    private static int _day;
    private DateTimeOffset _start;

    public Task InitializeAsync()
    {
        _start = ScheduleClockFixture.Start.AddDays(Interlocked.Increment(ref _day));
        if (fixture.Clock.GetUtcNow() < _start)
        {
            fixture.Clock.SetUtcNow(_start);
        }

        return Task.CompletedTask;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task OnTimeFirings_EachSubmitOneJob_AndFiringsPassedOverAreCountedSkipped()
    {
        var (schedule, id) = NewSchedule();
        var created = await schedule.CreateAsync(Every("*/5 * * * *", ScheduleCatchUp.One));
        Assert.Equal(At(0), created.Schedule!.NextRunAt); // 10:00, the first */5 after 09:59:30

        MoveTo(At(0).AddSeconds(1));
        var first = await UntilAsync(schedule, s => s.Runs == 1, "the 10:00 firing");
        MoveTo(At(21)); // 10:05, 10:10 and 10:15 passed over; 10:20 fires a minute late, which is on time
        var second = await UntilAsync(schedule, s => s.Runs == 2, "the 10:20 firing");

        Assert.Equal(At(0), first.LastRunAt);
        Assert.Equal((At(20), 3L, At(25)), (second.LastRunAt, second.Skipped, second.NextRunAt));
        var jobs = await JobsOfAsync(id);
        Assert.Equal(2, jobs.Count);
        Assert.Contains(second.LastJobId, jobs.Select(j => j.JobId));
        Assert.All(jobs, job => Assert.Equal((id, id), (job.ScheduleId, job.SessionId)));
    }

    [Theory]
    [InlineData(ScheduleCatchUp.One, 1)]
    [InlineData(ScheduleCatchUp.None, 0)]
    public async Task AFiringMissedWhileNothingRan_FiresOnceOrIsSkipped_ByCatchUp(ScheduleCatchUp catchUp, int expectedRuns)
    {
        var (schedule, id) = NewSchedule();
        await schedule.CreateAsync(Every("0 * * * *", catchUp));

        // 13:10: the 10:00, 11:00, 12:00 and 13:00 firings are due, the latest 10 minutes late (past
        // Schedules:LateFiringGrace, 5 minutes): missed, as when the whole cluster was down.
        MoveTo(At(190));
        var after = await UntilAsync(schedule, s => s.LastRunAt is not null, "the missed firings to be handled");

        Assert.Equal(At(180), after.LastRunAt);
        Assert.Equal((expectedRuns, 4L - expectedRuns), (after.Runs, after.Skipped));
        Assert.Equal(expectedRuns, (await JobsOfAsync(id)).Count);
        if (catchUp == ScheduleCatchUp.None)
        {
            Assert.Contains("catch_up: none", after.LastError);
        }
    }

    [Fact]
    public async Task AFiringWhoseRecordWriteFails_IsRepeated_AndStillMakesOneJob()
    {
        var (schedule, id) = NewSchedule();
        await schedule.CreateAsync(Every("*/5 * * * *", ScheduleCatchUp.One));
        var lost = StorageFaults.OnWrite(id, _ => true, StorageFault.Fail); // the schedule's write after the firing's submit

        MoveTo(At(0).AddSeconds(1));
        var fired = await UntilAsync(schedule, s => s.Runs == 1, "the firing to be repeated and stored");

        Assert.Equal(1, lost.Hits);
        var job = Assert.Single(await JobsOfAsync(id));
        Assert.Equal(fired.LastJobId, job.JobId);
    }

    [Fact]
    public async Task ATriggerWhoseRecordWriteFails_IsRepeatedByTheClient_AndStillMakesOneJob()
    {
        var (schedule, id) = NewSchedule();
        await schedule.CreateAsync(Every("0 3 * * *", ScheduleCatchUp.One));
        var lost = StorageFaults.OnWrite(id, _ => true, StorageFault.Fail); // the write after the trigger's job was made

        await Assert.ThrowsAsync<JobStorageException>(schedule.TriggerAsync); // the client's 503
        var repeated = await schedule.TriggerAsync();
        var again = await schedule.TriggerAsync(); // a new trigger: a new job

        Assert.Equal(1, lost.Hits);
        Assert.Equal(SubmitStatus.Existing, repeated!.Status);
        Assert.Equal(SubmitStatus.Accepted, again!.Status);
        var jobs = await JobsOfAsync(id);
        Assert.Equal(new[] { again.Job!.JobId, repeated.Job!.JobId }.Order(), jobs.Select(j => j.JobId).Order());
        var stored = (await schedule.GetAsync())!;
        Assert.Equal((2L, again.Job.JobId), (stored.Runs, stored.LastJobId));
    }

    [Fact]
    public async Task ADeleteWhoseStateRemovalFails_LeavesTheScheduleWhole_ReminderIncluded()
    {
        var (schedule, id) = NewSchedule();
        await schedule.CreateAsync(Every("*/5 * * * *", ScheduleCatchUp.One));
        var reminders = ((InProcessSiloHandle)fixture.Cluster.Silos[0]).SiloHost.Services.GetRequiredService<IReminderTable>();
        var grain = schedule.GetGrainId();
        Assert.Single((await reminders.ReadRows(grain)).Reminders);
        StorageFaults.OnClear(id, StorageFault.Fail);

        await Assert.ThrowsAsync<JobStorageException>(schedule.DeleteAsync);

        Assert.NotNull(await schedule.GetAsync());
        Assert.Single((await reminders.ReadRows(grain)).Reminders); // what fires it once its silo is gone
        Assert.True(await schedule.DeleteAsync());
        Assert.Empty((await reminders.ReadRows(grain)).Reminders);
        Assert.Null(await schedule.GetAsync());
    }

    [Fact]
    public async Task ABatchSchedulesFiring_MakesOneBatch_WhoseThenJobIsTheSchedulesJob()
    {
        var (schedule, id) = NewSchedule();
        var spec = Every("*/5 * * * *", ScheduleCatchUp.One) with
        {
            Job = Specs.Recipe("echo", prompt: "report"),
            Batch = [Specs.Recipe("echo", prompt: "a"), Specs.Recipe("echo", prompt: "b"), Specs.Recipe("echo", prompt: "c")],
        };
        await schedule.CreateAsync(spec);

        MoveTo(At(0).AddSeconds(1));
        var fired = await UntilAsync(schedule, s => s.Runs == 1, "the 10:00 firing");

        var batch = Grains.Batch(JobKeys.DefaultTenant, fired.LastBatchId!);
        var ended = await Eventually.Until(batch.GetAsync, b => b?.CompletedAt is not null, "the firing's batch to end");
        Assert.Equal((3, 3), (ended!.Total, ended.Counts.Succeeded));
        Assert.Equal(fired.LastJobId, ended.ThenJobId);
        var then = await Grains.Job(JobKeys.DefaultTenant, fired.LastJobId!).UntilTerminal();
        Assert.Equal((JobStatus.Succeeded, id), (then!.Status, then.ScheduleId));
        Assert.Equal(4, (await JobsOfAsync(id)).Count); // the batch's three and its then job, once
    }

    [Fact]
    public async Task Paused_ItsFiringsAreNotRun_AndResumeCountsFromNow()
    {
        var (schedule, id) = NewSchedule();
        await schedule.CreateAsync(Every("*/5 * * * *", ScheduleCatchUp.One));
        var paused = await schedule.UpdateAsync(new SchedulePatch(null, null, null, null, null, Paused: true));
        Assert.Null(paused.Schedule!.NextRunAt);

        MoveTo(At(29)); // 10:00 ... 10:25 pass while paused
        var resumed = await schedule.UpdateAsync(new SchedulePatch(null, null, null, null, null, Paused: false));
        MoveTo(At(30).AddSeconds(1));
        var fired = await UntilAsync(schedule, s => s.Runs == 1, "the first firing after the resume");

        Assert.Equal(At(30), resumed.Schedule!.NextRunAt);
        Assert.Equal((At(30), 0L), (fired.LastRunAt, fired.Skipped));
        Assert.Single(await JobsOfAsync(id));
    }

    /// <summary>10:00 of this test's day plus <paramref name="minutes"/>.</summary>
    private DateTimeOffset At(int minutes) => _start.AddSeconds(30).AddMinutes(minutes);

    private (IScheduleGrain Grain, string Id) NewSchedule()
    {
        var id = "clock-" + Guid.NewGuid().ToString("N")[..12];
        return (Grains.Schedule(JobKeys.DefaultTenant, id), id);
    }

    private static ScheduleSpec Every(string cron, ScheduleCatchUp catchUp) =>
        new(cron, "UTC", Specs.Recipe("echo"), ScheduleOverlap.Allow, catchUp, Paused: false);

    private void MoveTo(DateTimeOffset instant) => fixture.Clock.SetUtcNow(instant);

    private static Task<ScheduleSnapshot> UntilAsync(IScheduleGrain schedule, Func<ScheduleSnapshot, bool> done, string what) =>
        Eventually.Until(async () => (await schedule.GetAsync())!, done, what);

    private async Task<IReadOnlyList<JobSnapshot>> JobsOfAsync(string scheduleId) =>
        (await Grains.GetGrain<IJobQueryGrain>(0).ListAsync(new JobListQuery(JobKeys.DefaultTenant, null, null, 1, 100, scheduleId))).Jobs;
}
