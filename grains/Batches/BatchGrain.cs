using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Praison.Orleans.Grains.Execution;
using Praison.Orleans.Grains.Index;
using Praison.Orleans.Grains.Jobs;

namespace Praison.Orleans.Grains.Batches;

/// <summary>
/// One batch (docs/api.md "Batches"). Created with every job's spec in its record, it creates the jobs
/// under ids drawn beforehand (<c>BatchGrain.Creation.cs</c>): a submit repeated after a silo loss finds
/// its job already there, so each is created once. Its jobs tell it each status they store (one-way);
/// what a lost message did not say, the batch asks the job (on activation, then every
/// <see cref="ReconcilePeriod"/>). What it learns only moves forward, and ends are checkpointed, so a
/// restarted batch asks only the jobs still live. Once every job has ended it stores that, and only
/// then answers the jobs that depend on it (its then job first).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification =
    "The write lock takes no wait handle and the stop source holds no timer; they go with the activation.")]
[MayInterleave(nameof(MayInterleave))]
public sealed partial class BatchGrain(
    [PersistentState("batch", JobStorage.Name)] IPersistentState<BatchRecord> state,
    JobExecutor executor,
    IOptions<JobsOptions> options,
    TimeProvider time,
    ILogger<BatchGrain> logger) : Grain, IBatchGrain, IRemindable
{
    /// <summary>How often a live batch asks the jobs it has heard nothing final from.</summary>
    public static readonly TimeSpan ReconcilePeriod = TimeSpan.FromSeconds(30);

    /// <summary>How often a live batch stores the ends it learnt since its last checkpoint.</summary>
    private static readonly TimeSpan CheckpointPeriod = TimeSpan.FromSeconds(2);

    /// <summary>How long one <see cref="AwaitEndAsync"/> waits at most (under Orleans' 30 s response timeout).</summary>
    private static readonly TimeSpan LongestWait = TimeSpan.FromSeconds(20);

    /// <summary>Calls to its jobs in flight at once (creating, asking, cancelling, deleting).</summary>
    private const int InFlight = 64;

    private const string Expiry = "expire";

    private readonly SemaphoreSlim _writes = new(1, 1);
    private readonly CancellationTokenSource _leaving = new();
    private readonly List<Channel<BatchSnapshot>> _watchers = [];
    private Storage.CommittedState<BatchRecord>? _store;
    private (string Tenant, string BatchId)? _key;

    // What this activation knows of each job (BatchJobStates), its counts, and where each id is.
    private byte[] _known = [];
    private readonly int[] _counts = new int[BatchJobStates.Count];
    private Dictionary<string, int> _positions = new(StringComparer.Ordinal);
    private bool _unstoredEnds;

    private TaskCompletionSource? _created;
    private TaskCompletionSource? _completed;
    private Task<JobEnd>? _end;
    private Task? _creation;
    private bool _reconciling;
    private IGrainTimer? _checkpoints;
    private IGrainTimer? _reconciles;

    private string Tenant => Key.Tenant;

    private string BatchId => Key.BatchId;

    private (string Tenant, string BatchId) Key => _key ??= JobKeys.Parse(this.GetPrimaryKeyString());

    private Storage.CommittedState<BatchRecord> Store =>
        _store ??= new(state, GrainContext, logger, "batch", record => record.JobIds is not null);

    private BatchRecord? Record => Store.Stored;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (Record is { } record)
        {
            Learnt(record);
            Go(record);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// The then job's (or any dependant's) <see cref="AddDependantAsync"/> is served between other calls:
    /// it is made while the batch creates its jobs, which a cancel waits for.
    /// </summary>
    public static bool MayInterleave(global::Orleans.Serialization.Invocation.IInvokable request) => request.GetMethodName() == nameof(IJobParent.AddDependantAsync);

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // A creation stops at its next step (not awaited: its step may wait on a job that calls this
        // batch, which no longer takes calls); the next activation goes on from the record.
        await _leaving.CancelAsync();
        _created?.TrySetResult();
        _completed?.TrySetResult();
    }

    /// <summary>Takes what <paramref name="record"/> says of each job as this activation's knowledge.</summary>
    private void Learnt(BatchRecord record)
    {
        _known = (byte[])record.States.Clone();
        Array.Clear(_counts);
        foreach (var known in _known)
        {
            _counts[known]++;
        }

        _positions = new Dictionary<string, int>(record.JobIds.Length, StringComparer.Ordinal);
        for (var i = 0; i < record.JobIds.Length; i++)
        {
            _positions[record.JobIds[i]] = i;
        }
    }

    /// <summary>What a stored batch does on this activation: go on creating, or follow its jobs until they end.</summary>
    private void Go(BatchRecord record)
    {
        if (record.CompletedAt is not null)
        {
            return;
        }

        _completed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _checkpoints ??= this.RegisterGrainTimer(CheckpointAsync, new GrainTimerCreationOptions(CheckpointPeriod, CheckpointPeriod) { Interleave = true });
        if (record.Creating)
        {
            _created ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _creation = CreateJobsAsync(_leaving.Token);
        }
        else
        {
            FollowJobs(TimeSpan.Zero);
        }
    }

    /// <summary>Asks the jobs not yet ended after <paramref name="first"/>, then every <see cref="ReconcilePeriod"/>.</summary>
    private void FollowJobs(TimeSpan first) =>
        _reconciles ??= this.RegisterGrainTimer(ReconcileAsync, new GrainTimerCreationOptions(first, ReconcilePeriod) { Interleave = true });

    public async Task<BatchReply> CreateAsync(BatchSpec spec)
    {
        if (Record is { } existing)
        {
            return new BatchReply(BatchCommandStatus.IdTaken, Snapshot(existing));
        }

        if (Refusal(spec) is { } refused)
        {
            return refused;
        }

        var ids = new HashSet<string>(spec.Jobs.Count + 1, StringComparer.Ordinal);
        while (ids.Count < spec.Jobs.Count + (spec.Then is null ? 0 : 1))
        {
            ids.Add(GrainInterfaces.JobIds.New());
        }

        string[] drawn = [.. ids];
        var jobIds = drawn[..spec.Jobs.Count];
        var record = new BatchRecord
        {
            JobIds = jobIds,
            CreatedAt = time.GetUtcNow(),
            ThenJobId = spec.Then is null ? null : drawn[^1],
            Specs = [.. spec.Jobs.Select(job => job with { BatchId = BatchId })],
            ThenSpec = spec.Then is null ? null : spec.Then with { DependsOn = [BatchId] },
            States = new byte[jobIds.Length],
        };
        await Store.CommitAsync(record);
        LogCreated(logger, BatchId, jobIds.Length, record.ThenJobId);
        Learnt(record);
        Go(record);
        return new BatchReply(BatchCommandStatus.Done, Snapshot(record));
    }

    /// <summary>Why the batch cannot be made (the first job a recipe refuses, as <c>jobs[i].field</c>); null when it can.</summary>
    private BatchReply? Refusal(BatchSpec spec)
    {
        if (spec.Jobs.Count is < 1 or > BatchSpec.MaxJobs)
        {
            return Rejected("jobs", $"A batch has 1–{BatchSpec.MaxJobs} jobs, not {spec.Jobs.Count}");
        }

        for (var i = 0; i < spec.Jobs.Count; i++)
        {
            if (spec.Jobs[i].DependsOn?.Contains(BatchId, StringComparer.Ordinal) == true)
            {
                return Rejected($"jobs[{i}].depends_on", "A batch's job cannot depend on its own batch: each would wait for the other");
            }

            if (executor.Prepare(spec.Jobs[i]).Problem is { } problem)
            {
                return Rejected($"jobs[{i}].{problem.Field}", problem.Message);
            }
        }

        return spec.Then is { } then && executor.Prepare(then).Problem is { } thenProblem
            ? Rejected($"then.{thenProblem.Field}", thenProblem.Message)
            : null;

        static BatchReply Rejected(string field, string error) => new(BatchCommandStatus.Rejected, null, field, error);
    }

    public async Task<BatchSnapshot?> AwaitCreatedAsync(TimeSpan wait)
    {
        if (await ExpiredAsync() || Record is not { } record)
        {
            return null;
        }

        if (record.Creating && _created is { } created)
        {
            await created.Task.WaitAsync(wait < LongestWait ? wait : LongestWait, time).ContinueWith(_ => { }, TaskScheduler.Current);
        }

        return Record is { } now ? Snapshot(now) : null;
    }

    public async Task<BatchSnapshot?> GetAsync() => await ExpiredAsync() || Record is not { } record ? null : Snapshot(record);

    public async Task<IReadOnlyList<string>?> JobIdsAsync(int skip, int take) =>
        await ExpiredAsync() || Record is not { } record ? null : record.JobIds.Skip(skip).Take(take).ToArray();

    public async Task JobChangedAsync(string jobId, JobStatus status)
    {
        if (Record is not null && _positions.TryGetValue(jobId, out var position))
        {
            await LearnAsync(position, (byte)status);
        }
    }

    /// <summary>
    /// What the batch learns of one job: its counts move, its watchers hear of it, and the batch
    /// completes when it was the last job to end (and no job is still to be created).
    /// </summary>
    private async Task LearnAsync(int position, byte next)
    {
        var known = _known[position];
        if (!BatchJobStates.Advances(known, next))
        {
            return;
        }

        (_known[position], _counts[known], _counts[next]) = (next, _counts[known] - 1, _counts[next] + 1);
        _unstoredEnds |= BatchJobStates.IsEnd(next);
        Publish();
        if (AllEnded && Record is { Creating: false, CompletedAt: null })
        {
            await CompleteAsync();
        }
    }

    private bool AllEnded => BatchJobStates.Counts(_counts).Ended == _known.Length;

    /// <summary>Stores that every job has ended and how, then answers whoever waits for that.</summary>
    private async Task CompleteAsync()
    {
        var completed = false;
        await CommitAsync(record =>
        {
            completed = record.CompletedAt is null;
            return completed ? Changed(record, completedAt: time.GetUtcNow()) : null;
        });
        if (!completed || Record is not { } record)
        {
            return; // completed by another path meanwhile
        }

        var ended = Snapshot(record);
        LogCompleted(logger, BatchId, ended.Status);
        _checkpoints?.Dispose();
        _reconciles?.Dispose();
        (_checkpoints, _reconciles) = (null, null);
        _completed?.TrySetResult();
        Publish(final: true);
        try
        {
            await this.RegisterOrUpdateReminder(Expiry, options.Value.Retention, ExpiryPeriod);
        }
        catch (Exception exception)
        {
            LogReminderFailed(logger, exception, BatchId); // it expires when next asked for
        }
    }

    /// <summary>The expiry reminder's period, should an expiry fail or be put off for a dependant (Orleans' minimum is a minute).</summary>
    private static readonly TimeSpan ExpiryPeriod = TimeSpan.FromHours(1);

    /// <summary>
    /// Stores the ends learnt since the last checkpoint, or that the batch completed when that write
    /// failed before (a failure is retried at the next).
    /// </summary>
    private async Task CheckpointAsync(CancellationToken cancellationToken)
    {
        if (Record is not { CompletedAt: null } stored)
        {
            return;
        }

        if (AllEnded && !stored.Creating)
        {
            await CompleteAsync();
            return;
        }

        if (!_unstoredEnds)
        {
            return;
        }

        try
        {
            _unstoredEnds = false;
            await CommitAsync(record => Changed(record));
        }
        catch (JobStorageException)
        {
            _unstoredEnds = true;
        }
    }

    /// <summary>A copy of <paramref name="record"/> with this activation's knowledge, and what else changes.</summary>
    private BatchRecord Changed(BatchRecord record, DateTimeOffset? completedAt = null)
    {
        var next = record.Copy();
        next.States = (byte[])_known.Clone();
        next.CompletedAt = completedAt ?? record.CompletedAt;
        return next;
    }

    /// <summary>One write at a time: <paramref name="change"/> of the stored record (null: nothing to write) is committed.</summary>
    private async Task CommitAsync(Func<BatchRecord, BatchRecord?> change)
    {
        await _writes.WaitAsync();
        try
        {
            if (Record is { } record && change(record) is { } next)
            {
                await Store.CommitAsync(next);
            }
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>Asks each job not known to have ended how it is (a lost message, or a restart of the batch).</summary>
    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        if (_reconciling || Record is not { Creating: false, CompletedAt: null } record)
        {
            return;
        }

        _reconciling = true;
        try
        {
            var live = Enumerable.Range(0, _known.Length).Where(i => !BatchJobStates.IsEnd(_known[i])).ToList();
            await Bounded.ForEachAsync(live, InFlight, async position =>
            {
                try
                {
                    var job = await GrainFactory.Job(Tenant, record.JobIds[position]).GetStatusAsync();
                    await LearnAsync(position, job is null ? BatchJobStates.Missing : (byte)job.Status);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    LogAskFailed(logger, exception, BatchId, record.JobIds[position]); // asked again next round
                }
            });
        }
        finally
        {
            _reconciling = false;
        }
    }

    public async Task<JobEnd?> AwaitEndAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        if (await ExpiredAsync() || Record is null)
        {
            return JobEnd.Missing(BatchId);
        }

        if (Record.CompletedAt is null && _completed is { } completed)
        {
            await completed.Task.WaitAsync(wait < LongestWait ? wait : LongestWait, time, cancellationToken)
                .ContinueWith(_ => { }, TaskScheduler.Current);
        }

        if (Record is null)
        {
            return JobEnd.Missing(BatchId);
        }

        if (Record.CompletedAt is null)
        {
            return null;
        }

        var end = _end ??= EndOfAsync(Record);
        try
        {
            return await end;
        }
        catch (Exception) when (_end == end)
        {
            _end = null; // a job did not answer (its silo lost): the next ask builds it again
            throw;
        }
    }

    public async Task<DependantStatus> AddDependantAsync(string dependantId)
    {
        if (await ExpiredAsync() || Record is not { } record)
        {
            return DependantStatus.NotFound;
        }

        if (dependantId == record.ThenJobId || record.Dependants?.Contains(dependantId, StringComparer.Ordinal) == true)
        {
            return DependantStatus.Added;
        }

        if (record.Dependants?.Length >= JobSpec.MaxDependants)
        {
            return DependantStatus.Full;
        }

        await CommitAsync(stored =>
        {
            var next = stored.Copy();
            next.Dependants = [.. stored.Dependants ?? [], dependantId];
            return next;
        });
        return DependantStatus.Added;
    }

    /// <summary>A batch is never kept for its dependants: its delete waits until none waits (<see cref="DeleteAsync"/>).</summary>
    public Task DependantSettledAsync(string dependantId) => Task.CompletedTask;

    public async Task<BatchReply> CancelAsync()
    {
        if (await ExpiredAsync() || Record is not { } record)
        {
            return new BatchReply(BatchCommandStatus.NotFound, null);
        }

        if (record.CompletedAt is not null)
        {
            return new BatchReply(BatchCommandStatus.WrongState, Snapshot(record));
        }

        await CommitAsync(stored => stored.CancelledAt is null ? WithCancelledAt(stored) : null);
        if (_creation is { } creation)
        {
            await creation; // it creates no more jobs once cancelled: every job that exists is known now
        }

        LogCancelled(logger, BatchId);
        var jobs = Record!.JobIds;
        await Bounded.ForEachAsync(Enumerable.Range(0, jobs.Length).Where(i => !BatchJobStates.IsEnd(_known[i])).ToList(), InFlight, async position =>
        {
            var reply = await GrainFactory.Job(Tenant, jobs[position]).CancelAsync();
            await LearnAsync(position, reply.Found ? (byte)reply.Job.Status : BatchJobStates.Missing);
        });
        if (Record?.ThenJobId is { } then)
        {
            await GrainFactory.Job(Tenant, then).CancelAsync();
        }

        return Record is { } now ? new BatchReply(BatchCommandStatus.Done, Snapshot(now)) : new BatchReply(BatchCommandStatus.NotFound, null);

        BatchRecord WithCancelledAt(BatchRecord stored)
        {
            var next = stored.Copy();
            next.CancelledAt = time.GetUtcNow();
            return next;
        }
    }

    public async Task<BatchReply> DeleteAsync()
    {
        if (await ExpiredAsync() || Record is not { } record)
        {
            return new BatchReply(BatchCommandStatus.NotFound, null);
        }

        var deleted = Snapshot(record);
        if (record.CompletedAt is null)
        {
            return new BatchReply(BatchCommandStatus.WrongState, deleted, Error: "Cannot delete a batch whose jobs are live. Cancel it first.");
        }

        if (await StillWaitedOnAsync(record) is { } waiting)
        {
            return new BatchReply(BatchCommandStatus.WrongState, deleted, Error: waiting);
        }

        string[] jobs = record.ThenJobId is { } then ? [.. record.JobIds, then] : record.JobIds;
        await Bounded.ForEachAsync(jobs, InFlight, jobId => GrainFactory.Job(Tenant, jobId).DeleteAsync());
        await RemoveAsync("deleted through the API");
        return new BatchReply(BatchCommandStatus.Done, deleted);
    }

    /// <summary>Why the batch cannot go yet: its then job is live, or a job still waits to learn how it ended; null when it can.</summary>
    private async Task<string?> StillWaitedOnAsync(BatchRecord record)
    {
        if (record.ThenJobId is { } then && await GrainFactory.Job(Tenant, then).GetStatusAsync() is { } thenJob && !thenJob.Status.IsTerminal())
        {
            return $"Its then job {then} is {thenJob.Status.ToWireName()}. Cancel it first.";
        }

        string[] dependants = record.Dependants ?? [];
        var waits = await Task.WhenAll(dependants.Select(dependant => GrainFactory.Job(Tenant, dependant).WaitsOnAsync(BatchId)));
        return dependants.Where((_, i) => waits[i]).FirstOrDefault() is { } waiting
            ? $"Job {waiting} still waits on this batch. Cancel or delete it first."
            : null;
    }

    /// <summary>Removes the record (its jobs go by their own retention, or were deleted first); its watchers' streams end.</summary>
    private async Task RemoveAsync(string reason)
    {
        await _writes.WaitAsync();
        try
        {
            await Store.ClearAsync();
        }
        finally
        {
            _writes.Release();
        }

        LogRemoved(logger, BatchId, reason);
        Publish(final: true);
        if (await this.GetReminder(Expiry) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }

        DeactivateOnIdle();
    }

    /// <summary>Removes the batch if its retention (<see cref="JobsOptions.Retention"/> after its end) has passed; true when it did.</summary>
    private async Task<bool> ExpiredAsync()
    {
        if (Record is not { CompletedAt: { } completedAt } record || !options.Value.IsExpired(completedAt, time.GetUtcNow()))
        {
            return false;
        }

        if (await StillWaitedOnAsync(record) is not null)
        {
            return false; // kept until the dependant has learnt how it ended; the reminder comes again
        }

        await RemoveAsync("its retention ended");
        return true;
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (Record is null && await this.GetReminder(reminderName) is { } reminder)
        {
            await this.UnregisterReminder(reminder); // removed before its time
            return;
        }

        await ExpiredAsync();
    }

    public async IAsyncEnumerable<BatchSnapshot> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (await ExpiredAsync() || Record is not { } record)
        {
            yield break;
        }

        // One place: a slow watcher skips to the latest snapshot, which is all a count needs.
        var watcher = Channel.CreateBounded<BatchSnapshot>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        watcher.Writer.TryWrite(Snapshot(record));
        if (record.CompletedAt is null)
        {
            _watchers.Add(watcher);
        }
        else
        {
            watcher.Writer.TryComplete();
        }

        try
        {
            await foreach (var snapshot in watcher.Reader.ReadAllAsync(cancellationToken))
            {
                yield return snapshot;
            }
        }
        finally
        {
            _watchers.Remove(watcher);
        }
    }

    /// <summary>Tells every watcher the batch as it is now; <paramref name="final"/>: and that there is no more.</summary>
    private void Publish(bool final = false)
    {
        if (_watchers.Count == 0)
        {
            return;
        }

        var snapshot = Record is { } record ? Snapshot(record) : null;
        foreach (var watcher in _watchers)
        {
            if (snapshot is not null)
            {
                watcher.Writer.TryWrite(snapshot);
            }

            if (final)
            {
                watcher.Writer.TryComplete();
            }
        }

        if (final)
        {
            _watchers.Clear();
        }
    }

    /// <summary>The batch as clients see it: the record, with this activation's knowledge of its jobs.</summary>
    private BatchSnapshot Snapshot(BatchRecord record)
    {
        var counts = BatchJobStates.Counts(_counts);
        var status = record.CompletedAt is null
            ? (counts.Running + counts.Ended > 0 ? JobStatus.Running : JobStatus.Queued)
            : OutcomeOf(record, counts);
        return new BatchSnapshot(BatchId, status, record.JobIds.Length, counts, record.CreatedAt, record.CompletedAt,
            record.CancelledAt, record.ThenJobId, record.Creating);
    }

    /// <summary>An ended batch's status: cancelled when it was; else failed when a job failed or is missing; cancelled when one was; else succeeded.</summary>
    private static JobStatus OutcomeOf(BatchRecord record, BatchCounts counts) =>
        record.CancelledAt is not null ? JobStatus.Cancelled
        : counts.Failed + counts.Missing > 0 ? JobStatus.Failed
        : counts.Cancelled > 0 ? JobStatus.Cancelled
        : JobStatus.Succeeded;

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} created with {Jobs} jobs (then job: {ThenJobId})")]
    private static partial void LogCreated(ILogger logger, string batchId, int jobs, string? thenJobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} ended: {Status}")]
    private static partial void LogCompleted(ILogger logger, string batchId, JobStatus status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} cancelled through the API")]
    private static partial void LogCancelled(ILogger logger, string batchId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} removed: {Reason}")]
    private static partial void LogRemoved(ILogger logger, string batchId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: could not register its expiry reminder")]
    private static partial void LogReminderFailed(ILogger logger, Exception exception, string batchId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: could not ask job {JobId} how it is; asking again later")]
    private static partial void LogAskFailed(ILogger logger, Exception exception, string batchId, string jobId);
}
