using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Praison.Orleans.Grains.Execution;
using Praison.Orleans.Grains.Jobs;

namespace Praison.Orleans.Grains.Schedules;

/// <summary>
/// One schedule (docs/api.md: Schedules): owns its spec and its firings. A durable reminder ticks every
/// <see cref="SchedulesOptions.CheckPeriod"/> (it survives the silo, and keeps the schedule active
/// somewhere in the cluster); while active, a timer fires each time exactly. A firing submits the job
/// (or creates the batch, with the job as its then job) under an id derived from (schedule, fire time),
/// so however often a firing is attempted — a silo lost mid-firing, a write that failed after the
/// submit, two activations racing — it creates one job (or batch).
/// </summary>
public sealed partial class ScheduleGrain(
    [PersistentState("schedule", JobStorage.Name)] IPersistentState<ScheduleRecord> state,
    JobExecutor executor, IOptions<SchedulesOptions> options, IOptions<LiveJobsOptions> liveJobs,
    [FromKeyedServices(ScheduleGrain.Clock)] TimeProvider time,
    ILogger<ScheduleGrain> logger)
    : Grain, IScheduleGrain, IRemindable
{
    /// <summary>
    /// The key of the clock schedules read (the silo's <see cref="TimeProvider"/> unless replaced): tests
    /// move it to reach fire times without moving Orleans' own.
    /// </summary>
    public const string Clock = "schedules";

    private const string Reminder = "fire";

    private IGrainTimer? _timer;

    private (string Tenant, string ScheduleId) Key => JobKeys.Parse(this.GetPrimaryKeyString());

    private Storage.CommittedState<ScheduleRecord>? _store;

    /// <summary>The schedule as storage last confirmed it (changes are made to a copy, committed, then seen).</summary>
    private Storage.CommittedState<ScheduleRecord> Store =>
        _store ??= new(state, GrainContext, logger, "schedule", record => record.Spec is not null);

    private ScheduleRecord? Record => Store.Stored;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        Arm();
        return Task.CompletedTask;
    }

    public async Task<ScheduleReply> CreateAsync(ScheduleSpec spec)
    {
        if (Record is { } existing)
        {
            // Perhaps a create repeated after its reminder's registration failed: register it now.
            await KeepRemindingAsync(!existing.Spec.Paused);
            return new ScheduleReply(ScheduleCommandStatus.Exists, Snapshot(existing));
        }

        var now = time.GetUtcNow();
        if (Check(spec, now) is { } refused)
        {
            return refused;
        }

        var directory = GrainFactory.ScheduleDirectory(Key.Tenant);
        if (!await directory.TryAddAsync(Key.ScheduleId, options.Value.MaxPerTenant))
        {
            return new ScheduleReply(ScheduleCommandStatus.TooMany, null, null,
                $"Too many schedules: a tenant may have {options.Value.MaxPerTenant} (Schedules:MaxPerTenant). Delete some first.");
        }

        try
        {
            await Store.CommitAsync(new ScheduleRecord { Spec = spec, CreatedAt = now, UpdatedAt = now, NextRunAt = FirstRun(spec, now) });
        }
        catch (JobStorageException)
        {
            await directory.RemoveAsync(Key.ScheduleId); // not created: its id is free again
            throw;
        }

        await KeepRemindingAsync(!spec.Paused);
        Arm();
        LogCreated(logger, Key.ScheduleId, spec.Cron, spec.TimeZone, Record!.NextRunAt);
        return new ScheduleReply(ScheduleCommandStatus.Created, Snapshot(Record));
    }

    public Task<ScheduleSnapshot?> GetAsync() => Task.FromResult(Record is { } record ? Snapshot(record) : null);

    public async Task<ScheduleReply> UpdateAsync(SchedulePatch patch)
    {
        if (Record is not { } record)
        {
            return new ScheduleReply(ScheduleCommandStatus.NotFound, null);
        }

        var now = time.GetUtcNow();
        var spec = patch.ApplyTo(record.Spec);
        if (Check(spec, now) is { } refused)
        {
            return refused;
        }

        // New times, or a resume, count from now: a paused schedule's firings are not caught up.
        var retimed = spec.Cron != record.Spec.Cron || spec.TimeZone != record.Spec.TimeZone || spec.Paused != record.Spec.Paused;
        var next = record.Copy();
        (next.Spec, next.UpdatedAt) = (spec, now);
        if (retimed)
        {
            next.NextRunAt = FirstRun(spec, now);
        }

        await Store.CommitAsync(next);
        await KeepRemindingAsync(!spec.Paused);
        Arm();
        return new ScheduleReply(ScheduleCommandStatus.Done, Snapshot(next));
    }

    /// <summary>
    /// Removes the schedule: its state first (should that fail, it is all still there, reminder
    /// included), then its directory entry (a repeat after that failed finds no schedule and removes the
    /// entry all the same), then its reminder (a tick that outlives it unregisters it).
    /// </summary>
    public async Task<bool> DeleteAsync()
    {
        var directory = GrainFactory.ScheduleDirectory(Key.Tenant);
        if (Record is null)
        {
            await directory.RemoveAsync(Key.ScheduleId); // a delete that failed after the state went
            return false;
        }

        await Store.ClearAsync();
        Arm();
        await directory.RemoveAsync(Key.ScheduleId);
        await KeepRemindingAsync(false);
        LogDeleted(logger, Key.ScheduleId);
        DeactivateOnIdle();
        return true;
    }

    /// <summary>
    /// Submits the schedule's job now, under an id derived from the schedule and the trigger's number: a
    /// trigger whose write failed after its job was made (503) makes no second job when repeated — the
    /// repeat finds that job (<see cref="SubmitStatus.Existing"/>) and stores it.
    /// </summary>
    public async Task<SubmitReply?> TriggerAsync()
    {
        if (Record is not { } record)
        {
            return null;
        }

        if (record.Spec.Batch is not null)
        {
            return await TriggerBatchAsync(record);
        }

        for (var triggers = record.Triggers + 1; triggers <= record.Triggers + MaxTriggerDraws; triggers++)
        {
            var job = GrainFactory.Job(Key.Tenant, JobIdOf(record, $"trigger {triggers}"));
            var reply = await job.SubmitAsync(JobOf(record.Spec.Job));
            if (reply.Status == SubmitStatus.IdTaken)
            {
                if (await job.GetStatusAsync() is not { } made)
                {
                    continue; // a removed job still delivering its webhook holds the id: the next number
                }

                reply = new SubmitReply(SubmitStatus.Existing, made, null, null);
            }

            if (reply.HasJob)
            {
                var next = record.Copy();
                (next.LastJobId, next.LastBatchId, next.Runs, next.Triggers) = (reply.Job.JobId, null, record.Runs + 1, triggers);
                await Store.CommitAsync(next);
            }

            return reply;
        }

        throw new InvalidOperationException($"No free trigger job id after {MaxTriggerDraws} draws.");
    }

    private const int MaxTriggerDraws = 5;

    /// <summary>How long a batch schedule's trigger waits for its batch's jobs (then job last) to be created.</summary>
    private static readonly TimeSpan BatchCreateWait = TimeSpan.FromSeconds(20);

    /// <summary>
    /// A batch schedule's trigger: its batch now, under an id derived from the trigger's number (so a
    /// repeat after a failed write finds it); the answer is the batch's then job, once created, or as it
    /// will be while the batch still creates its jobs.
    /// </summary>
    private async Task<SubmitReply> TriggerBatchAsync(ScheduleRecord record)
    {
        var triggers = record.Triggers + 1;
        var (batch, refusal) = await CreateBatchAsync(record, $"trigger {triggers}");
        if (batch is null)
        {
            return new SubmitReply(SubmitStatus.Rejected, null, "batch", refusal);
        }

        var created = await GrainFactory.Batch(Key.Tenant, batch.BatchId).AwaitCreatedAsync(BatchCreateWait) ?? batch;
        var then = await GrainFactory.Job(Key.Tenant, created.ThenJobId!).GetStatusAsync()
            ?? new JobSnapshot(created.ThenJobId!, JobStatus.Queued, JobProgress.None, created.CreatedAt, null, null, null, null, null, 1, null);
        var next = record.Copy();
        (next.LastJobId, next.LastBatchId, next.Runs, next.Triggers) = (then.JobId, batch.BatchId, record.Runs + 1, triggers);
        await Store.CommitAsync(next);
        return new SubmitReply(SubmitStatus.Accepted, then, null, null);
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (Record is null)
        {
            await KeepRemindingAsync(false); // a tick that outlived its schedule
            return;
        }

        await FireDueAsync();
    }

    /// <summary>
    /// Handles the firing that is due, if one is: the latest time at or before now (earlier ones it
    /// passed over were missed and are counted skipped). On time, or late with <c>catch_up: one</c>, it
    /// fires; late with <c>catch_up: none</c> it is skipped. Then the next time is set and stored.
    /// </summary>
    private async Task FireDueAsync()
    {
        var now = time.GetUtcNow();
        if (Record is not { Spec.Paused: false, NextRunAt: { } due } record || due > now)
        {
            Arm();
            return;
        }

        if (Times(record.Spec, now) is not { } times)
        {
            await StoreErrorAsync(record, "its cron or time zone can no longer be read here"); // its zone left this machine's database
            return;
        }

        var (latest, passedOver) = times.LatestDue(due, now);
        var missed = now - latest > options.Value.LateFiringGrace;
        var outcome = missed && record.Spec.CatchUp == ScheduleCatchUp.None
            ? Firing.Skipped("missed while no silo could fire it (catch_up: none)")
            : await FireAsync(record, latest);
        var next = record.Copy();
        outcome.ApplyTo(next);
        next.Skipped += passedOver;
        (next.LastRunAt, next.NextRunAt) = (latest, times.NextAfter(latest));
        await Store.CommitAsync(next);
        LogFired(logger, Key.ScheduleId, latest, outcome.JobId, outcome.Error, passedOver);
        Arm();
    }

    /// <summary>Stores <paramref name="error"/> as the schedule's last, once (each check would find it again).</summary>
    private async Task StoreErrorAsync(ScheduleRecord record, string error)
    {
        if (record.LastError != error)
        {
            var next = record.Copy();
            next.LastError = error;
            await Store.CommitAsync(next);
        }
    }

    /// <summary>
    /// Submits the firing at <paramref name="at"/> unless the previous job is live and overlap is skipped,
    /// or the tenant is at its live-jobs quota (a schedule that allows overlap would otherwise make jobs
    /// past it, which a direct submit could not).
    /// </summary>
    private async Task<Firing> FireAsync(ScheduleRecord record, DateTimeOffset at)
    {
        if (record.Spec.Overlap == ScheduleOverlap.Skip && record.LastJobId is { } previous
            && await GrainFactory.Job(Key.Tenant, previous).GetStatusAsync() is { } job && !job.Status.IsTerminal())
        {
            return Firing.Skipped($"job {previous} was still {job.Status.ToWireName()} (overlap: skip)");
        }

        var quota = liveJobs.Value;
        var making = 1 + (record.Spec.Batch?.Count ?? 0);
        if (quota.MaxLiveJobsPerTenant > 0 && !quota.HasRoom(await GrainFactory.GetGrain<IJobQueryGrain>(0).LiveCountAsync(Key.Tenant) + making - 1))
        {
            return Firing.Skipped(quota.Refusal);
        }

        if (record.Spec.Batch is not null)
        {
            var (batch, refusal) = await CreateBatchAsync(record, $"{at.UtcTicks}");
            return batch is not null ? Firing.Submitted(batch.ThenJobId!, batch.BatchId) : Firing.Skipped($"the batch was refused: {refusal}");
        }

        var jobId = JobIdOf(record, $"{at.UtcTicks}");
        var reply = await GrainFactory.Job(Key.Tenant, jobId).SubmitAsync(JobOf(record.Spec.Job));
        return reply.Status is SubmitStatus.Accepted or SubmitStatus.IdTaken // IdTaken: this firing's job exists already
            ? Firing.Submitted(jobId)
            : Firing.Skipped($"the job was refused: {reply.Field}: {reply.Error}");
    }

    /// <summary>
    /// Creates the batch of one firing or trigger under an id derived as a job's is (<see cref="JobIdOf"/>):
    /// repeated, it finds its batch. The batch, or why it was refused.
    /// </summary>
    private async Task<(BatchSnapshot? Batch, string? Refusal)> CreateBatchAsync(ScheduleRecord record, string occasion)
    {
        var batch = GrainFactory.Batch(Key.Tenant, JobIds.DerivedBatch(OccasionOf(record, occasion)));
        var reply = await batch.CreateAsync(new BatchSpec([.. record.Spec.Batch!.Select(JobOf)], JobOf(record.Spec.Job)));
        return reply.Status switch
        {
            BatchCommandStatus.Done or BatchCommandStatus.IdTaken => (reply.Batch, null), // IdTaken: this occasion's batch exists already
            _ => (null, $"{reply.Field}: {reply.Error}"),
        };
    }

    /// <summary>
    /// The id of the job of one firing or trigger (<paramref name="occasion"/>: its fire time, or its
    /// trigger's number): a hash of tenant, schedule (this one, by its creation time, not an earlier one
    /// of the same id) and occasion.
    /// </summary>
    private string JobIdOf(ScheduleRecord record, string occasion) => JobIds.Derived(OccasionOf(record, occasion));

    /// <summary>What names one firing or trigger: tenant, schedule (by its creation time) and occasion.</summary>
    private string OccasionOf(ScheduleRecord record, string occasion) => $"{this.GetPrimaryKeyString()}@{record.CreatedAt.UtcTicks}@{occasion}";

    /// <summary>A job a firing submits (the schedule's, or one of its batch's), named by it (its session, unless the job gives one).</summary>
    private JobSpec JobOf(JobSpec job) =>
        job with { SessionId = job.SessionId ?? Key.ScheduleId, ScheduleId = Key.ScheduleId, IdempotencyKey = null, RunAt = null };

    /// <summary>Refuses a spec whose times or job would not do, naming the field; null when it is fine.</summary>
    private ScheduleReply? Check(ScheduleSpec spec, DateTimeOffset now)
    {
        var (_, field, error) = ScheduleTimes.Parse(spec.Cron, spec.TimeZone, options.Value.MinInterval, now);
        if (field is null)
        {
            var (problem, _) = executor.Prepare(JobOf(spec.Job));
            (field, error) = problem is null ? (null, null) : ("job." + problem.Field, problem.Message);
        }

        for (var i = 0; field is null && i < (spec.Batch?.Count ?? 0); i++)
        {
            var (problem, _) = executor.Prepare(JobOf(spec.Batch![i]));
            (field, error) = problem is null ? (null, null) : ($"batch[{i}].{problem.Field}", problem.Message);
        }

        return field is null ? null : new ScheduleReply(ScheduleCommandStatus.Rejected, null, field, error);
    }

    /// <summary>The times of a spec already checked (<see cref="Check"/>); null only if this machine can no longer read them.</summary>
    private static ScheduleTimes? Times(ScheduleSpec spec, DateTimeOffset now) =>
        ScheduleTimes.Parse(spec.Cron, spec.TimeZone, TimeSpan.Zero, now).Times;

    private static DateTimeOffset? FirstRun(ScheduleSpec spec, DateTimeOffset now) => spec.Paused ? null : Times(spec, now)?.NextAfter(now);

    /// <summary>Registers the reminder (idempotent) or removes it.</summary>
    private async Task KeepRemindingAsync(bool on)
    {
        if (on)
        {
            await this.RegisterOrUpdateReminder(Reminder, options.Value.CheckPeriod, options.Value.CheckPeriod);
        }
        else if (await this.GetReminder(Reminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    /// <summary>Sets the timer for the next firing when it is within a reminder period (the reminder re-arms it later).</summary>
    private void Arm()
    {
        _timer?.Dispose();
        _timer = null;
        if (Record is { Spec.Paused: false, NextRunAt: { } next })
        {
            var wait = next - time.GetUtcNow();
            if (wait <= options.Value.CheckPeriod)
            {
                _timer = this.RegisterGrainTimer(FireDueAsync, new GrainTimerCreationOptions(wait < TimeSpan.Zero ? TimeSpan.Zero : wait, Timeout.InfiniteTimeSpan));
            }
        }
    }

    private ScheduleSnapshot Snapshot(ScheduleRecord record) => new(
        Key.ScheduleId, record.Spec, record.CreatedAt, record.UpdatedAt, record.Spec.Paused ? null : record.NextRunAt,
        record.LastRunAt, record.LastJobId, record.Runs, record.Skipped, record.LastError, record.LastBatchId);

    /// <summary>What one firing did: submitted a job (a batch schedule's: a batch, and its then job), or was skipped for a reason.</summary>
    private readonly record struct Firing(string? JobId, string? Error, string? BatchId = null)
    {
        public static Firing Submitted(string jobId, string? batchId = null) => new(jobId, null, batchId);

        public static Firing Skipped(string reason) => new(null, reason);

        public void ApplyTo(ScheduleRecord record)
        {
            if (JobId is not null)
            {
                (record.LastJobId, record.LastBatchId, record.Runs, record.LastError) = (JobId, BatchId, record.Runs + 1, null);
            }
            else
            {
                (record.Skipped, record.LastError) = (record.Skipped + 1, Error);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Schedule {ScheduleId} created: {Cron} in {TimeZone}, next at {NextRunAt}")]
    private static partial void LogCreated(ILogger logger, string scheduleId, string cron, string timeZone, DateTimeOffset? nextRunAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Schedule {ScheduleId} deleted")]
    private static partial void LogDeleted(ILogger logger, string scheduleId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Schedule {ScheduleId} fired for {FireTime}: job {JobId}, skipped: {Reason}, passed over {PassedOver}")]
    private static partial void LogFired(ILogger logger, string scheduleId, DateTimeOffset fireTime, string? jobId, string? reason, long passedOver);
}
