using System.Text.Json.Nodes;
using Praison.Orleans.Grains.Recipes;
using Praison.Orleans.Grains.Telemetry;

namespace Praison.Orleans.Grains.Jobs;

/// <summary>
/// The run loop: waits for a slot on this silo, records <c>running</c>, runs the executor off the grain
/// scheduler with a token that fires on cancel, timeout or hand-over, checkpoints progress, and records
/// how it ended. A transition the loop owes (running, succeeded, failed) is retried in place until
/// storage takes it, holding the outcome: a storage hiccup never runs a finished job again.
/// </summary>
public sealed partial class JobGrain
{
    private static readonly TimeSpan FirstStorageRetry = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LongestStorageRetry = TimeSpan.FromSeconds(10);

    private CancellationTokenSource? _stop;
    private Task? _loop;

    // Progress as reported on this activation (ahead of the stored record) and the id of its event.
    private JobProgress _liveProgress = JobProgress.None;
    private long _liveProgressEventId;

    /// <summary>
    /// Endings whose write is in flight (a cancel and the work's own end may overlap). The work may still
    /// report then (a report posted just before it failed, or one made as its timeout fired), and the
    /// grain serves it at the write's await: a progress event published then would carry an id after
    /// the ending's events, which are published once the write is stored — a stream would go backwards,
    /// and a reconnect after that id would never get the final event.
    /// </summary>
    private int _endings;

    /// <summary>What the loop waits for before the job may run (<see cref="FlowControl.JobWaits"/>); null once it runs.</summary>
    private string? _waiting;

    private bool LoopIsLive => _loop is { IsCompleted: false };

    private int MaxAttempts =>
        Record.Spec.MaxAttempts > 0 ? Record.Spec.MaxAttempts : options.Value.DefaultMaxAttempts;

    private int TimeoutSeconds =>
        Record.Spec.TimeoutSeconds > 0 ? Record.Spec.TimeoutSeconds : options.Value.DefaultTimeoutSeconds;

    /// <summary>
    /// Resumes a lost attempt once the current request has been served: a one-shot timer tick is a turn
    /// of its own, queued behind the request that woke the job.
    /// </summary>
    private void ResumeAfterThisRequest(string trigger)
    {
        IGrainTimer? once = null;
        once = this.RegisterGrainTimer(
            _ =>
            {
                once?.Dispose();
                ResumeIfLost(trigger);
                return Task.CompletedTask;
            },
            new GrainTimerCreationOptions(TimeSpan.Zero, Timeout.InfiniteTimeSpan));
    }

    /// <summary>
    /// A live record with no loop on this activation means the attempt that owned it was lost (its silo
    /// died or shut down): start the loop again. Idempotent, as sweeps may repeat.
    /// </summary>
    private void ResumeIfLost(string trigger)
    {
        if (Exists && !Record.Status.IsTerminal() && !LoopIsLive)
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
        using var scope = LogScope(); // the loop may start from a timer, outside any call
        try
        {
            if (JobTransitions.AttemptsExhausted(Record, MaxAttempts))
            {
                await UntilStoredAsync(() => FailAsync($"Interrupted: attempts exhausted ({Record.Attempt})", "attempts exhausted"), stop);
                return;
            }

            if (await UntilParentsAllowAsync(stop) is not { } parents)
            {
                return; // ended before it ran: its run_if can no longer hold
            }

            await UntilItsTimeAsync(stop);
            var lease = await admission.AdmitAsync(Tenant, JobId, Record.Spec, waiting => _waiting = waiting, stop);
            await RunAttemptAsync(lease, parents, stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Cancelled (already recorded) or handed over (left live for the next activation).
        }
        catch (Exception exception)
        {
            LogLoopFailed(logger, exception, JobId);
        }
        finally
        {
            ReleaseWhenIdle(); // a cancelled job waited for its work to stop before it could go
        }
    }

    /// <summary>True while the job is queued for a time still ahead (<c>run_at</c>, <c>delay_seconds</c>).</summary>
    private bool IsWaitingForItsTime =>
        Exists && Record.Status == JobStatus.Queued && Record.Spec.RunAt > time.GetUtcNow();

    /// <summary>
    /// A scheduled job waits for its time before it asks for a slot (in steps: a delay longer than about
    /// 49 days cannot be one timer). Cancel, delete and hand-over stop the wait; if this activation goes
    /// away meanwhile, the sweep before the job's time wakes it on whichever silo to wait the rest.
    /// </summary>
    private async Task UntilItsTimeAsync(CancellationToken stop)
    {
        while (IsWaitingForItsTime)
        {
            var left = Record.Spec.RunAt!.Value - time.GetUtcNow();
            await Task.Delay(left < MaxWaitStep ? left : MaxWaitStep, time, stop);
        }
    }

    private static readonly TimeSpan MaxWaitStep = TimeSpan.FromDays(1);

    /// <summary>
    /// Runs <paramref name="write"/> until storage takes it, waiting longer after each failure. Gives up
    /// only when <paramref name="stop"/> fires: the job was cancelled, or this activation is going away
    /// and the next one carries on from what storage holds.
    /// </summary>
    private async Task<bool> UntilStoredAsync(Func<Task<bool>> write, CancellationToken stop)
    {
        var delay = FirstStorageRetry;
        while (true)
        {
            try
            {
                return await write();
            }
            catch (JobStorageException) when (!stop.IsCancellationRequested)
            {
                LogStorageRetry(logger, JobId, delay);
                await Task.Delay(delay, time, stop);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestStorageRetry.Ticks));
            }
        }
    }

    /// <summary>
    /// Runs one attempt holding <paramref name="lease"/>. The work gets a token that fires on cancel,
    /// hand-over (<paramref name="stop"/>) or timeout. The lease is released when the work really stops
    /// (which may be after the job has ended); the token sources once the work has stopped and this
    /// method has stopped waiting on them — a fast recipe can finish before the wait even begins.
    /// </summary>
    private async Task RunAttemptAsync(IDisposable lease, JobEnd[] parents, CancellationToken stop)
    {
        var timeoutSeconds = TimeoutSeconds;
        var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds), time);
        var run = CancellationTokenSource.CreateLinkedTokenSource(stop, timeout.Token);
        void DisposeTokens()
        {
            run.Dispose();
            timeout.Dispose();
        }

        Task<RecipeOutput> work;
        SchedulerProgress progress;
        int attempt;
        try
        {
            if (!await UntilStoredAsync(() => StartAttemptAsync(parents), stop))
            {
                DisposeTokens();
                lease.Dispose();
                return;
            }

            attempt = Record.Attempt;
            progress = new SchedulerProgress(TaskScheduler.Current, report => ApplyProgress(attempt, report));
            var (spec, prepared, checkpoint, token) = (Record.Spec, Record.Prepared, Record.Progress, run.Token);
            var (jobId, traceParent, ends) = (JobId, Record.TraceParent, Record.Parents ?? []);
            work = Task.Run(
                async () =>
                {
                    // The work's own span, so the recipe and the calls it makes (LLM, HTTP) are in the job's trace.
                    using var span = JobTracing.StartRun(jobId, JobMetrics.KindOf(spec), attempt, traceParent);
                    return await executor.RunAsync(spec, prepared, jobId, attempt, checkpoint, ends, progress, token);
                },
                token);
        }
        catch
        {
            DisposeTokens();
            lease.Dispose();
            throw;
        }

        _ = work.ContinueWith(static (_, lease) => ((IDisposable)lease!).Dispose(), lease, TaskScheduler.Default);
        var checkpointEvery = options.Value.ProgressCheckpointInterval;
        using var checkpoints = this.RegisterGrainTimer(
            CheckpointProgressAsync,
            new GrainTimerCreationOptions(checkpointEvery, checkpointEvery) { KeepAlive = true, Interleave = true });
        var ending = await AwaitWorkAsync(work, progress, timeoutSeconds, run.Token, timeout.Token, stop);
        _ = work.ContinueWith(static (_, dispose) => ((Action)dispose!)(), (Action)DisposeTokens, TaskScheduler.Default);
        if (ending is not null && IsRunning(attempt))
        {
            await UntilStoredAsync(ending, stop);
        }
    }

    /// <summary>
    /// Waits for the work, the timeout or a stop, and says which transition that calls for (null: none,
    /// the job was cancelled or is being handed over).
    /// </summary>
    private async Task<Func<Task<bool>>?> AwaitWorkAsync(
        Task<RecipeOutput> work, SchedulerProgress progress, int timeoutSeconds, CancellationToken run, CancellationToken timeout,
        CancellationToken stop)
    {
        try
        {
            var output = await work.WaitAsync(run);
            await progress.DrainAsync();
            var resultJson = output.Result?.ToJsonString() ?? "null";
            var maxResult = options.Value.MaxResultChars;
            return resultJson.Length <= maxResult
                ? () => SucceedAsync(resultJson, (output.Metrics ?? new JsonObject()).ToJsonString())
                : () => FailAsync(
                    $"Result too large: {resultJson.Length} characters; the limit is {maxResult} (Jobs:MaxResultChars)", "result too large");
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

    /// <summary>True while the stored record says attempt <paramref name="attempt"/> is running.</summary>
    private bool IsRunning(int attempt) => Current is { Status: JobStatus.Running } record && record.Attempt == attempt;

    private void ApplyProgress(int attempt, JobProgress report)
    {
        var advanced = _liveProgress.Advance(report);
        if (IsRunning(attempt) && _endings == 0 && advanced != _liveProgress)
        {
            (_liveProgress, _liveProgressEventId) = (advanced, _ids.Next(Record.Epoch));
            _events.Publish(JobEvents.ProgressEvent(_liveProgressEventId, JobStatus.Running, advanced));
        }
    }

    /// <summary>
    /// Every <see cref="Execution.JobsOptions.ProgressCheckpointInterval"/> while an attempt runs:
    /// writes the progress reported since the last time, and the running entry to the index if it is not
    /// there yet. A failed write is only logged: the next checkpoint writes the progress again.
    /// </summary>
    private async Task CheckpointProgressAsync(CancellationToken cancellationToken)
    {
        if (Current is not { Status: JobStatus.Running } record)
        {
            return;
        }

        if (Store.Indexed.Version != record.StatusEventId)
        {
            await IndexAsync();
        }

        if (_liveProgress == record.Progress)
        {
            return;
        }

        var (liveProgress, liveEventId) = (_liveProgress, _liveProgressEventId);
        try
        {
            await TransitionAsync(stored => JobTransitions.Checkpoint(stored, liveProgress, liveEventId));
        }
        catch (JobStorageException)
        {
            LogCheckpointFailed(logger, JobId);
        }
    }
}
