using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Praison.Orleans.Grains.Execution;
using Praison.Orleans.Grains.FlowControl;
using Praison.Orleans.Grains.Index;
using Praison.Orleans.Grains.Telemetry;
using Praison.Orleans.Grains.Webhooks;

namespace Praison.Orleans.Grains.Jobs;

/// <summary>
/// One job: owns its record, its state machine, its cancellation and its timeout. Grain calls only
/// record transitions and return; the work runs in a background loop (<c>JobGrain.Attempt.cs</c>)
/// started on submit or on recovery, which waits for a slot on this silo and runs the executor off the
/// grain scheduler. Every change of the record is committed through <c>JobGrain.Storage.cs</c>: made
/// on a copy, written, and only then seen by anyone. Nothing keeps a job alive but its index entry: the
/// sweep (<see cref="JobSweeperGrain"/>) catches up every job the index says has something left to do,
/// which is how a job whose silo died resumes.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification =
    "The activation's token sources (no timers) and write lock (no wait handle taken) hold nothing unmanaged; they go with the activation, whose loop and delivery OnDeactivateAsync stops first.")]
public sealed partial class JobGrain(
    [PersistentState("job", JobStorage.Name)] IPersistentState<JobRecord> job,
    JobExecutor executor,
    JobAdmission admission,
    IJobIndex index,
    WebhookSender webhooks,
    JobMetrics metrics,
    IOptions<JobsOptions> options,
    TimeProvider time,
    ILogger<JobGrain> logger) : Grain, IJobGrain, IJobRecoveryGrain, IJobEntries
{
    private readonly JobEvents _events = new();
    private IGrainTimer? _release;

    /// <summary>Watchers following this job on this activation (observed by tests).</summary>
    internal int WatcherCount => _events.WatcherCount;

    private (string Tenant, string JobId)? _key;

    private string JobId => Key.JobId;

    private string Tenant => Key.Tenant;

    private (string Tenant, string JobId) Key => _key ??= JobKeys.Parse(this.GetPrimaryKeyString());

    /// <summary>
    /// The job's id and tenant as a logging scope (JSON logs show them on every line), opened by each
    /// method that logs. Only while job-level (Information) logging is on: a scope costs every call, and a
    /// grain call filter to open it would cost every call more.
    /// </summary>
    private IDisposable? LogScope() => logger.IsEnabled(LogLevel.Information) ? logger.BeginScope(new JobLogScope(JobId, Tenant)) : null;

    /// <summary>A job's log scope: its fields for structured logs, <c>JobId:… Tenant:…</c> as text.</summary>
    private sealed class JobLogScope(string jobId, string tenant) : IReadOnlyList<KeyValuePair<string, object>>
    {
        public int Count => 2;

        public KeyValuePair<string, object> this[int index] =>
            index == 0 ? new("JobId", jobId) : index == 1 ? new("Tenant", tenant) : throw new ArgumentOutOfRangeException(nameof(index));

        public IEnumerator<KeyValuePair<string, object>> GetEnumerator()
        {
            yield return this[0];
            yield return this[1];
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => $"JobId:{jobId} Tenant:{tenant}";
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        using var scope = LogScope();
        if (!Exists)
        {
            return;
        }

        await StartEpochAsync(); // and heals an entry a lost activation may not have written
        if (!Exists)
        {
            return;
        }

        (_liveProgress, _liveProgressEventId) = (Record.Progress, Record.ProgressEventId);
        _events.Restate(Record);
        if (Record.Status.IsTerminal())
        {
            ReleaseWhenIdle(); // read back to answer a request: no need to stay
        }
        else
        {
            // Not now: the request that woke the job (a cancel, say) is served first, then a lost attempt resumes.
            ResumeAfterThisRequest("activation");
        }

        StartWebhookDelivery();
    }

    /// <summary>
    /// A live job met by a new activation starts a new epoch of event ids, so the ids it hands out can
    /// never repeat ones a lost activation handed out after its last write. That activation's last write
    /// may land after this one read the record: the write then fails, the record is read again, and the
    /// epoch is started on what storage now holds (nothing has been published yet).
    /// </summary>
    private async Task StartEpochAsync()
    {
        for (var tries = 1; Exists && !Record.Status.IsTerminal(); tries++)
        {
            try
            {
                await TransitionAsync(record => JobTransitions.NewEpoch(record, _ids));
                return;
            }
            catch (JobStorageException) when (tries < 3)
            {
                // Storage held something else; it is the record now. Try again on it.
            }
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // A delivery in flight stops; the record still says it is pending, so the next activation sends it.
        _webhookStop?.Cancel();
        AnswerEndWaiters(); // they ask again, and reach the next activation
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
        using var scope = LogScope();
        await ExpireIfDueAsync(); // a removed one still delivering its webhook keeps its id
        if (Exists)
        {
            return new SubmitReply(SubmitStatus.IdTaken, null, null, null);
        }

        var (problem, prepared) = executor.Prepare(spec);
        if (problem is not null)
        {
            var status = problem.Unreadable ? SubmitStatus.Unreadable : SubmitStatus.Rejected;
            return new SubmitReply(status, null, problem.Field, problem.Message);
        }

        if (spec.DependsOn is { Count: > 0 } parents && await AddToParentsAsync(parents) is { } refused)
        {
            return refused;
        }

        var submit = JobTransitions.Submit(
            spec, JobExecutor.AgentIdFor(spec), prepared, JobTracing.CurrentTraceParent(), time.GetUtcNow(), _ids);
        (_liveProgress, _liveProgressEventId) = (submit.Next!.Progress, submit.Next.ProgressEventId);
        await TransitionAsync(submit);
        var queued = Snapshot(); // before the loop starts, which may record running at once
        StartLoop();
        return new SubmitReply(SubmitStatus.Accepted, queued, null, null);
    }

    public async Task<JobSnapshot?> GetStatusAsync()
    {
        await ExpireIfDueAsync();
        if (!IsVisible)
        {
            return null;
        }

        var waiting = WaitingReason;
        return Snapshot() with
        {
            Waiting = waiting,
            DependsOn = Record.Spec.DependsOn,
            RunIf = Record.Spec.RunIf,
            WaitingFor = waiting == JobWaits.DependsOn && _pendingParents is { } pending ? [.. Record.Spec.DependsOn!.Where(pending.Contains)] : null,
            Dependants = Record.Dependants,
        };
    }

    /// <summary>What the job waits for while queued on this activation (<see cref="JobWaits"/>); null otherwise.</summary>
    private string? WaitingReason =>
        Record.Status != JobStatus.Queued || !LoopIsLive ? null : IsWaitingForItsTime ? JobWaits.Time : _waiting;

    public async Task<JobResultReply> GetResultAsync()
    {
        await ExpireIfDueAsync();
        if (!IsVisible)
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
        using var scope = LogScope();
        await ExpireIfDueAsync();
        if (!IsVisible)
        {
            return new JobCommandReply(JobCommandStatus.NotFound, null);
        }

        var cancelled = await CancelTransitionAsync();
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
        using var scope = LogScope();
        await ExpireIfDueAsync();
        if (!IsVisible)
        {
            return new JobCommandReply(JobCommandStatus.NotFound, null);
        }

        if (!Record.Status.IsTerminal() && !IsWaitingForItsTime && WaitingReason != JobWaits.DependsOn)
        {
            return new JobCommandReply(JobCommandStatus.WrongState, Snapshot());
        }

        var deleted = Snapshot(); // the job as it was when deleted
        _stop?.Cancel(); // a job waiting for its time or its parents stops waiting
        await RemoveAsync("deleted through the API");
        return new JobCommandReply(JobCommandStatus.Done, deleted);
    }

    public async IAsyncEnumerable<JobEvent> WatchAsync(
        long afterEventId, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await ExpireIfDueAsync();
        if (!IsVisible)
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
            ReleaseWhenIdle();
        }
    }

    public async Task<bool> CatchUpAsync(long indexedVersion, bool indexedWebhookPending)
    {
        using var scope = LogScope();
        if (!Exists)
        {
            return false; // nothing behind the entry: the sweep drops it
        }

        await ExpireIfDueAsync(); // removes a job past its retention, or hides it while its webhook is pending
        if (!Exists)
        {
            return true; // removed just now, entry and all
        }

        if (Record.Removed)
        {
            await FinishRemovalOrDeliverAsync();
            return true;
        }

        // Rewrite an entry a lost activation or a failed write left behind, unless this activation has
        // written the current one since the sweep read it (activating a live job writes it, for one) or
        // an attempt runs here (its checkpoints write the running entry).
        var current = (Record.StatusEventId, Record.WebhookPending);
        if (current != (indexedVersion, indexedWebhookPending) && current != Store.Indexed && !LoopIsLive)
        {
            await IndexAsync();
        }

        ResumeIfLost("sweep");
        StartWebhookDelivery();
        return true;
    }

    public async Task<bool> EvictAsync()
    {
        using var scope = LogScope();
        if (!Exists)
        {
            return false;
        }

        if (Record.Removed)
        {
            await FinishRemovalOrDeliverAsync();
        }
        else if (Record.Status.IsTerminal())
        {
            await RemoveAsync("its tenant's finished jobs passed Jobs:MaxRetainedPerTenant");
        }

        return true;
    }

    /// <summary>
    /// A finished job that nobody watches and whose webhook has settled needs nothing its activation
    /// holds: <see cref="JobsOptions.FinishedJobIdleTime"/> later (by default at once in memory, 5 s in
    /// Azure Storage) it is deactivated, and a later request reads it back from storage, whose record
    /// keeps the events a stream replays. This is what keeps a silo holding many finished jobs small, and
    /// its GC short; Orleans' own idle collection takes 15 minutes.
    /// </summary>
    private void ReleaseWhenIdle()
    {
        if (_release is not null || !IsFinishedAndUnused)
        {
            return;
        }

        _release = this.RegisterGrainTimer(
            _ =>
            {
                _release?.Dispose();
                _release = null;
                if (IsFinishedAndUnused && !LoopIsLive) // a cancelled job's work still stopping: its loop's end looks again
                {
                    DeactivateOnIdle();
                }

                return Task.CompletedTask;
            },
            new GrainTimerCreationOptions(options.Value.FinishedJobIdleTime ?? TimeSpan.Zero, Timeout.InfiniteTimeSpan));
    }

    /// <summary>
    /// Ended, nobody streaming it, and no webhook to send now: settled, or waiting for its next round
    /// (then no delivery is in flight, and the sweep wakes the job when the round is due).
    /// </summary>
    private bool IsFinishedAndUnused =>
        Exists && Record.Status.IsTerminal() && _events.WatcherCount == 0
        && (!Record.WebhookPending || Record.WebhookRetryAt > time.GetUtcNow());

    private JobSnapshot Snapshot() => Snapshot(Record);

    /// <summary>The job as clients see it: <paramref name="record"/> as stored, with progress reported since its last checkpoint.</summary>
    private JobSnapshot Snapshot(JobRecord record) => record.Snapshot(JobId, _liveProgress);
}
