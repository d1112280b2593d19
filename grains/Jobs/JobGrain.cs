using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Praison.Orleans.Grains.Execution;
using Praison.Orleans.Grains.Index;
using Praison.Orleans.Grains.Recipes;
using Praison.Orleans.Grains.Webhooks;

namespace Praison.Orleans.Grains.Jobs;

/// <summary>
/// One job: owns its record, its state machine, its cancellation and its timeout. Grain calls only
/// record transitions and return; the work runs in <see cref="RunLoopAsync"/>, a background loop
/// started on submit or on recovery, which waits for a slot on this silo and runs the executor off the
/// grain scheduler. Every write of the record goes through <see cref="UpdateAsync"/>, one at a time.
/// Nothing keeps a job alive but its index entry: the sweep (<see cref="JobSweeperGrain"/>) visits
/// every job the index says has something left to do, which is how a job whose silo died resumes.
/// </summary>
public sealed partial class JobGrain(
    [PersistentState("job", JobStorage.Name)] IPersistentState<JobRecord> job,
    JobExecutor executor,
    JobSlots slots,
    IJobIndex index,
    WebhookSender webhooks,
    IOptions<JobExecutionOptions> options,
    TimeProvider time,
    ILogger<JobGrain> logger) : Grain, IJobGrain
{
    private readonly SemaphoreSlim _writes = new(1, 1);
    private readonly JobEvents _events = new();
    private CancellationTokenSource? _stop;
    private Task? _loop;
    private CancellationTokenSource? _webhookStop;
    private Task? _webhook;

    // Progress as reported on this activation (ahead of the stored record) and the id of its event.
    private JobProgress _liveProgress = JobProgress.None;
    private long _liveProgressEventId;

    // What this activation last wrote to the index: the entry's version (status event id) and whether
    // it said a webhook is pending. Default: nothing written yet.
    private (long Version, bool WebhookPending) _indexed;

    /// <summary>Watchers following this job on this activation (observed by tests).</summary>
    internal int WatcherCount => _events.WatcherCount;

    private JobRecord Record => job.State;

    private string JobId => JobKeys.Parse(this.GetPrimaryKeyString()).JobId;

    private string Tenant => JobKeys.Parse(this.GetPrimaryKeyString()).Tenant;

    private bool LoopIsLive => _loop is { IsCompleted: false };

    private int MaxAttempts =>
        Record.Spec.MaxAttempts > 0 ? Record.Spec.MaxAttempts : options.Value.DefaultMaxAttempts;

    private int TimeoutSeconds =>
        Record.Spec.TimeoutSeconds > 0 ? Record.Spec.TimeoutSeconds : options.Value.DefaultTimeoutSeconds;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!job.RecordExists)
        {
            return;
        }

        if (!Record.Status.IsTerminal())
        {
            // A live job met by a new activation starts a new epoch of event ids, so the ids it hands out
            // can never repeat ones a lost activation handed out after its last write.
            await UpdateAsync(record =>
            {
                record.Epoch++;
                record.StatusEventId = NextEventId();
                record.ProgressEventId = NextEventId();
                return true;
            });
        }

        (_liveProgress, _liveProgressEventId) = (Record.Progress, Record.ProgressEventId);
        _events.Restate(Record);
        if (!Record.Status.IsTerminal())
        {
            await IndexAsync(); // heals an entry a lost activation may not have written
        }

        ResumeIfLost("activation");
        StartWebhookDelivery();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // A delivery in flight stops; the record still says it is pending, so the next activation sends it.
        _webhookStop?.Cancel();
        if (!LoopIsLive)
        {
            return;
        }

        // Hand the job on: stop this attempt without recording anything; the record stays live and the
        // next activation (on whichever silo) resumes it.
        LogHandingOver(logger, JobId, reason.Description);
        _stop!.Cancel();
        try
        {
            await _loop!.WaitAsync(cancellationToken);
        }
        catch (Exception)
        {
            // The loop logs its own failures; deactivation goes on regardless.
        }
    }

    public async Task<SubmitReply> SubmitAsync(JobSpec spec)
    {
        if (await PresentAsync())
        {
            return new SubmitReply(SubmitStatus.IdTaken, null, null, null);
        }

        var (problem, agentsYaml) = executor.Prepare(spec);
        if (problem is not null)
        {
            var status = problem.Unreadable ? SubmitStatus.Unreadable : SubmitStatus.Rejected;
            return new SubmitReply(status, null, problem.Field, problem.Message);
        }

        // The index entry is written first, and must be: it is what the sweep finds the job by. If the
        // record's write then fails, the sweep finds no job behind the entry and removes it, whereas a
        // stored job without an entry could never be recovered.
        var now = time.GetUtcNow();
        await UpdateAsync(beforeWrite: WriteIndexEntryAsync, change: record =>
        {
            record.Spec = spec;
            record.Status = JobStatus.Queued;
            record.CreatedAt = now;
            record.AgentId = JobExecutor.AgentIdFor(spec);
            record.AgentsYaml = agentsYaml;
            record.Reason = "submitted";
            record.Epoch = 1;
            record.StatusEventId = NextEventId();
            record.ProgressEventId = NextEventId();
            return true;
        });
        (_liveProgress, _liveProgressEventId) = (Record.Progress, Record.ProgressEventId);
        _events.Restate(Record);
        LogSubmitted(logger, JobId, Record.AgentId);
        var queued = Snapshot();
        StartLoop();
        return new SubmitReply(SubmitStatus.Accepted, queued, null, null);
    }

    public async Task<JobSnapshot?> GetStatusAsync() => await PresentAsync() ? Snapshot() : null;

    public async Task<JobResultReply> GetResultAsync()
    {
        if (!await PresentAsync())
        {
            return new JobResultReply(JobCommandStatus.NotFound, null, null);
        }

        var snapshot = Snapshot();
        if (!Record.Status.IsTerminal())
        {
            return new JobResultReply(JobCommandStatus.WrongState, snapshot, null);
        }

        return new JobResultReply(JobCommandStatus.Done, snapshot, new JobOutcome(snapshot, Record.ResultJson, Record.MetricsJson ?? "{}"));
    }

    public async Task<JobCommandReply> CancelAsync()
    {
        if (!await PresentAsync())
        {
            return new JobCommandReply(JobCommandStatus.NotFound, null);
        }

        var now = time.GetUtcNow();
        var cancelled = await EndAsync(JobStatus.Cancelled, "cancelled through the API", record =>
        {
            record.CancelledAt = now;
            record.CompletedAt = now;
        });
        if (!cancelled)
        {
            return new JobCommandReply(JobCommandStatus.WrongState, Snapshot());
        }

        // Recorded first, then the token: whatever the work produces from now on is discarded.
        _stop?.Cancel();
        return new JobCommandReply(JobCommandStatus.Done, Snapshot());
    }

    public async Task<JobCommandReply> DeleteAsync()
    {
        if (!await PresentAsync())
        {
            return new JobCommandReply(JobCommandStatus.NotFound, null);
        }

        if (!Record.Status.IsTerminal())
        {
            return new JobCommandReply(JobCommandStatus.WrongState, Snapshot());
        }

        await RemoveAsync("deleted through the API");
        return new JobCommandReply(JobCommandStatus.Done, null);
    }

    public async IAsyncEnumerable<JobEvent> WatchAsync(
        long afterEventId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (!await PresentAsync())
        {
            yield break;
        }

        var watcher = _events.Watch(afterEventId);
        try
        {
            await foreach (var e in watcher.ReadAllAsync(cancellationToken))
            {
                yield return e;
            }
        }
        finally
        {
            _events.Forget(watcher);
        }
    }

    public async Task<bool> VisitAsync(long indexedVersion, bool indexedWebhookPending)
    {
        if (!await PresentAsync())
        {
            return false;
        }

        // Rewrite an entry a lost activation or a failed write left behind, unless this activation has
        // written the current one since the sweep read it (activating a live job writes it, for one).
        var current = (Record.StatusEventId, Record.WebhookPending);
        if (current != (indexedVersion, indexedWebhookPending) && current != _indexed)
        {
            await IndexAsync();
        }

        ResumeIfLost("sweep");
        StartWebhookDelivery();
        return true;
    }

    /// <summary>
    /// A live record with no loop on this activation means the attempt that owned it was lost (its silo
    /// died or shut down): start the loop again. Idempotent, as sweeps may repeat.
    /// </summary>
    private void ResumeIfLost(string trigger)
    {
        if (job.RecordExists && !Record.Status.IsTerminal() && !LoopIsLive)
        {
            LogResuming(logger, JobId, Record.Status, Record.Attempt, trigger);
            StartLoop();
        }
    }

    private void StartLoop()
    {
        _stop?.Dispose();
        _stop = new CancellationTokenSource();
        _loop = RunLoopAsync(_stop.Token);
    }

    /// <summary>
    /// Takes the job from queued (or from a lost attempt) to a terminal state: wait for a slot, run one
    /// attempt, record how it ended. Cancellation of <paramref name="stop"/> means the job was cancelled
    /// (already recorded) or this activation is going away (the record stays live for the next one).
    /// </summary>
    private async Task RunLoopAsync(CancellationToken stop)
    {
        var checkpointEvery = options.Value.ProgressCheckpointInterval;
        using var checkpoints = this.RegisterGrainTimer(
            CheckpointProgressAsync,
            new GrainTimerCreationOptions(checkpointEvery, checkpointEvery) { KeepAlive = true, Interleave = true });
        try
        {
            if (Record.Status == JobStatus.Running && Record.Attempt >= MaxAttempts)
            {
                await EndAsync(JobStatus.Failed, "attempts exhausted", record =>
                    record.Error = $"Interrupted: attempts exhausted ({Record.Attempt})");
                return;
            }

            var lease = await slots.AcquireAsync(stop);
            await RunAttemptAsync(lease, stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Cancelled (already recorded) or handed over (left live for the next activation).
        }
        catch (Exception exception)
        {
            // Storage failed under us: the record is as it was last written and the sweep resumes it.
            LogLoopFailed(logger, exception, JobId);
        }
    }

    /// <summary>
    /// Runs one attempt holding <paramref name="lease"/>. The work gets a token that fires on cancel,
    /// hand-over (<paramref name="stop"/>) or timeout. The lease is released when the work really stops
    /// (which may be after the job has ended); the token sources once the work has stopped and this
    /// method has stopped waiting on them — a fast recipe can finish before the wait even begins.
    /// </summary>
    private async Task RunAttemptAsync(RateLimitLease lease, CancellationToken stop)
    {
        var timeoutSeconds = TimeoutSeconds;
        var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds), time);
        var run = CancellationTokenSource.CreateLinkedTokenSource(stop, timeout.Token);
        void DisposeTokens()
        {
            run.Dispose();
            timeout.Dispose();
        }

        void Release()
        {
            DisposeTokens();
            lease.Dispose();
        }

        Task<RecipeOutput> work;
        SchedulerProgress progress;
        int attempt;
        try
        {
            if (!await MarkRunningAsync())
            {
                Release();
                return;
            }

            attempt = Record.Attempt;
            progress = new SchedulerProgress(TaskScheduler.Current, report => ApplyProgress(attempt, report));
            var (spec, agentsYaml, checkpoint, token) = (Record.Spec, Record.AgentsYaml, Record.Progress, run.Token);
            work = Task.Run(() => executor.RunAsync(spec, agentsYaml, JobId, attempt, checkpoint, progress, token), token);
        }
        catch
        {
            Release();
            throw;
        }

        _ = work.ContinueWith(static (_, lease) => ((RateLimitLease)lease!).Dispose(), lease, TaskScheduler.Default);
        var ending = await AwaitWorkAsync(work, progress, run.Token, timeout.Token, stop, timeoutSeconds);
        _ = work.ContinueWith(static (_, dispose) => ((Action)dispose!)(), (Action)DisposeTokens, TaskScheduler.Default);
        if (ending is not null && Record.Status == JobStatus.Running && Record.Attempt == attempt)
        {
            await ending();
        }
    }

    /// <summary>
    /// Waits for the work, the timeout or a stop, and says which transition that calls for (null: none,
    /// the job was cancelled or is being handed over).
    /// </summary>
    private async Task<Func<Task>?> AwaitWorkAsync(
        Task<RecipeOutput> work, SchedulerProgress progress, CancellationToken run, CancellationToken timeout,
        CancellationToken stop, int timeoutSeconds)
    {
        try
        {
            var output = await work.WaitAsync(run);
            await progress.DrainAsync();
            return () => SucceedAsync(output);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return null;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return () => FailAsync($"Job timed out after {timeoutSeconds}s", "timed out");
        }
        catch (Exception exception)
        {
            LogWorkFailed(logger, exception, JobId);
            return () => FailAsync(exception.Message, "the work failed");
        }
    }

    private async Task<bool> MarkRunningAsync()
    {
        var now = time.GetUtcNow();
        var started = await UpdateAsync(record =>
        {
            if (record.Status.IsTerminal())
            {
                return false;
            }

            var resumed = record.Attempt > 0;
            record.Status = JobStatus.Running;
            record.StartedAt ??= now;
            record.Attempt++;
            record.Reason = resumed ? "resumed after the previous attempt was lost" : "started";
            record.StatusEventId = NextEventId();
            return true;
        });
        if (started)
        {
            // The index learns of it at the first progress checkpoint: a job that ends before then costs
            // one index write fewer, and its entry goes from queued straight to its end.
            _events.Publish(JobEvents.StatusEvent(Record));
        }

        return started;
    }

    private Task SucceedAsync(RecipeOutput output) =>
        EndAsync(JobStatus.Succeeded, "the work succeeded", record =>
        {
            record.Progress = record.Progress with { Percentage = 100 };
            record.ResultJson = output.Result?.ToJsonString() ?? "null";
            record.MetricsJson = (output.Metrics ?? new JsonObject()).ToJsonString();
        });

    private Task FailAsync(string error, string reason) =>
        EndAsync(JobStatus.Failed, reason, record => record.Error = error);

    /// <summary>
    /// The one way into a terminal state: applies <paramref name="details"/>, stamps the end, persists,
    /// then updates the index and starts the webhook if there is one. False when the job was already terminal.
    /// </summary>
    private async Task<bool> EndAsync(JobStatus status, string reason, Action<JobRecord> details)
    {
        var now = time.GetUtcNow();
        var progressChanged = false;
        var ended = await UpdateAsync(record =>
        {
            if (record.Status.IsTerminal())
            {
                return false;
            }

            record.Status = status;
            record.Progress = record.Progress.Advance(_liveProgress);
            record.Reason = reason;
            details(record);
            record.CompletedAt ??= now;
            progressChanged = record.Progress != _liveProgress;
            record.ProgressEventId = progressChanged ? NextEventId() : _liveProgressEventId;
            record.StatusEventId = NextEventId();
            record.FinalEventId = NextEventId();
            record.WebhookPending = record.Spec.WebhookUrl is not null;
            return true;
        });
        if (ended)
        {
            if (progressChanged)
            {
                _events.Publish(JobEvents.ProgressEvent(Record.ProgressEventId, status, Record.Progress));
            }

            _events.Publish(JobEvents.StatusEvent(Record));
            _events.Publish(JobEvents.FinalEvent(Record));
            LogEnded(logger, JobId, status, reason);
            await IndexAsync(); // pending webhooks stay due for the sweep until they are settled
            StartWebhookDelivery();
        }

        return ended;
    }

    private void ApplyProgress(int attempt, JobProgress report)
    {
        var advanced = _liveProgress.Advance(report);
        if (Record.Status == JobStatus.Running && Record.Attempt == attempt && advanced != _liveProgress)
        {
            (_liveProgress, _liveProgressEventId) = (advanced, NextEventId());
            _events.Publish(JobEvents.ProgressEvent(_liveProgressEventId, JobStatus.Running, advanced));
        }
    }

    /// <summary>
    /// Every <see cref="JobExecutionOptions.ProgressCheckpointInterval"/> while the loop lives: writes the
    /// progress reported since the last time, and the running entry to the index if it is not there yet.
    /// </summary>
    private async Task CheckpointProgressAsync(CancellationToken cancellationToken)
    {
        if (Record.Status != JobStatus.Running)
        {
            return;
        }

        if (_indexed.Version != Record.StatusEventId)
        {
            await IndexAsync();
        }

        if (_liveProgress != Record.Progress)
        {
            await UpdateAsync(record =>
            {
                if (record.Status != JobStatus.Running)
                {
                    return false;
                }

                record.Progress = record.Progress.Advance(_liveProgress);
                record.ProgressEventId = _liveProgressEventId;
                return true;
            });
        }
    }

    /// <summary>
    /// Applies <paramref name="change"/> and writes the record, one change at a time; with
    /// <paramref name="beforeWrite"/>, that runs between the change and the write, and its failure fails
    /// the update. When the write fails the record is read back, so memory never runs ahead of storage.
    /// </summary>
    private async Task<bool> UpdateAsync(Func<JobRecord, bool> change, Func<Task>? beforeWrite = null)
    {
        await _writes.WaitAsync();
        try
        {
            if (!change(job.State))
            {
                return false;
            }

            try
            {
                if (beforeWrite is not null)
                {
                    await beforeWrite();
                }

                await job.WriteStateAsync();
            }
            catch
            {
                await RestoreAsync();
                throw;
            }

            return true;
        }
        finally
        {
            _writes.Release();
        }
    }

    private async Task RestoreAsync()
    {
        try
        {
            await job.ReadStateAsync();
        }
        catch (Exception exception)
        {
            LogRestoreFailed(logger, exception, JobId);
            DeactivateOnIdle();
        }
    }

    /// <summary>
    /// False when there is no job: never submitted, deleted, or past its retention — an expired job is
    /// removed here, on first sight, whether or not its removal reminder has fired yet.
    /// </summary>
    private async Task<bool> PresentAsync()
    {
        if (job.RecordExists && Record.Status.IsTerminal() && options.Value.IsExpired(Record.CompletedAt, time.GetUtcNow()))
        {
            await RemoveAsync("its retention ended");
        }

        return job.RecordExists;
    }

    /// <summary>
    /// Removes the job and all that points at it: the record, its index entry, its idempotency key and
    /// its watchers. If the index removal fails, the sweep finds the entry, no job behind it, and removes it.
    /// </summary>
    private async Task RemoveAsync(string reason)
    {
        var (idempotencyKey, createdAt) = (Record.Spec.IdempotencyKey, Record.CreatedAt);
        _webhookStop?.Cancel();
        await _writes.WaitAsync();
        try
        {
            await job.ClearStateAsync();
        }
        finally
        {
            _writes.Release();
        }

        _events.EndAll();
        await UnindexAsync(createdAt);
        if (idempotencyKey is not null)
        {
            await ReleaseIdempotencyKeyAsync(idempotencyKey);
        }

        LogRemoved(logger, JobId, reason);
        DeactivateOnIdle();
    }

    /// <summary>Starts delivering the pending webhook, unless none is pending or a delivery is under way.</summary>
    private void StartWebhookDelivery()
    {
        if (!job.RecordExists || !Record.Status.IsTerminal() || !Record.WebhookPending || _webhook is { IsCompleted: false })
        {
            return;
        }

        _webhookStop?.Dispose();
        _webhookStop = new CancellationTokenSource();
        _webhook = DeliverWebhookAsync(_webhookStop.Token);
    }

    /// <summary>
    /// Sends the terminal-state webhook (the sender retries until a 2xx or its attempts run out) and
    /// records how that went. Keeps the activation alive meanwhile; if it goes away, the record still
    /// says pending and the next activation or sweep sends again.
    /// </summary>
    private async Task DeliverWebhookAsync(CancellationToken stop)
    {
        using var keepAlive = this.RegisterGrainTimer(
            static _ => Task.CompletedTask,
            new GrainTimerCreationOptions(TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1)) { KeepAlive = true });
        try
        {
            var payload = new WebhookPayload(
                JobId,
                Record.Status.ToWireName(),
                Record.Status == JobStatus.Succeeded && Record.ResultJson is { } json ? JsonNode.Parse(json) : null,
                Record.Error,
                Record.CompletedAt?.ToApiString(),
                Record is { StartedAt: { } started, CompletedAt: { } completed } ? (completed - started).TotalSeconds : null);
            var error = await webhooks.DeliverAsync(Record.Spec.WebhookUrl!, payload, stop);
            if (stop.IsCancellationRequested || !job.RecordExists)
            {
                return;
            }

            var now = time.GetUtcNow();
            await UpdateAsync(record =>
            {
                record.WebhookPending = false;
                record.WebhookDeliveredAt = error is null ? now : null;
                record.WebhookError = error;
                return true;
            });
            LogWebhook(logger, JobId, error ?? "delivered");
            await IndexAsync(); // settled: no longer due for the sweep
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Handed over or deleted.
        }
        catch (Exception exception)
        {
            LogWebhookFailed(logger, exception, JobId);
        }
    }

    /// <summary>
    /// Writes this job's entry to the job index. A failure is logged, not thrown: the job itself is
    /// stored, its entry is there from submit, and the next transition (or sweep) writes it again.
    /// </summary>
    private async Task IndexAsync()
    {
        try
        {
            await WriteIndexEntryAsync();
        }
        catch (Exception exception)
        {
            LogIndexFailed(logger, exception, JobId);
        }
    }

    private async Task WriteIndexEntryAsync()
    {
        var written = (Record.StatusEventId, Record.WebhookPending);
        await index.UpsertAsync(new JobIndexEntry(Tenant, Snapshot(), written.StatusEventId, Record.Spec.IdempotencyKey is not null));
        _indexed = written;
    }

    /// <summary>
    /// Frees the job's idempotency key. A failure is only logged: the key's grain also finds its job
    /// gone on the next submit and creates a new one.
    /// </summary>
    private async Task ReleaseIdempotencyKeyAsync(string idempotencyKey)
    {
        try
        {
            await GrainFactory.GetGrain<IIdempotencyGrain>(JobKeys.ForIdempotencyKey(Tenant, idempotencyKey)).ReleaseAsync(JobId);
        }
        catch (Exception exception)
        {
            LogKeyReleaseFailed(logger, exception, JobId);
        }
    }

    private async Task UnindexAsync(DateTimeOffset createdAt)
    {
        try
        {
            await index.RemoveAsync(Tenant, JobId, createdAt);
        }
        catch (Exception exception)
        {
            LogIndexFailed(logger, exception, JobId);
        }
    }

    private long NextEventId() => _events.NextId(Record.Epoch);

    private JobSnapshot Snapshot() => new(
        JobId,
        Record.Status,
        Record.Status == JobStatus.Running ? Record.Progress.Advance(_liveProgress) : Record.Progress,
        Record.CreatedAt,
        Record.StartedAt,
        Record.CompletedAt,
        Record.AgentId,
        Record.Spec.SessionId,
        Record.Error,
        Math.Max(Record.Attempt, 1),
        Record.CancelledAt,
        Record.Spec.WebhookUrl is null ? null : new WebhookDelivery(
            Record.WebhookPending || !Record.Status.IsTerminal(), Record.WebhookDeliveredAt, Record.WebhookError));
}
