using System.Threading.Channels;
using Praison.Orleans.Grains.FlowControl;

namespace Praison.Orleans.Grains.Jobs;

/// <summary>
/// Jobs that wait for other jobs (<see cref="JobSpec.DependsOn"/>, docs/api.md "Workflows"). A new job
/// first records itself in each parent's record (so a parent is kept while it waits, and knows its
/// dependants), then is created queued. Its run loop asks every parent how it ended
/// (<see cref="IJobParent.AwaitEndAsync"/>, a long wait each parent answers as it ends, asked again after
/// a silo loss) and decides by its <see cref="RunIf"/> (<see cref="JobDependencies"/>): run, wait, or end
/// cancelled naming the parent. Nothing about the wait is stored until that decision: the parents'
/// records are what it is decided from, so a child resumed anywhere decides the same, and it starts once
/// because its own record says it started.
/// </summary>
public sealed partial class JobGrain
{
    /// <summary>How long one ask of a parent waits before it is asked again (under Orleans' 30 s response timeout).</summary>
    private static readonly TimeSpan ParentWait = TimeSpan.FromSeconds(20);

    /// <summary>Completed (and replaced) when this job ends, is removed, or its activation goes: every waiting <see cref="AwaitEndAsync"/> answers.</summary>
    private TaskCompletionSource? _endedOrLeaving;

    /// <summary>The parents not yet ended, while the run loop waits for them; null otherwise.</summary>
    private HashSet<string>? _pendingParents;

    public async Task<DependantStatus> AddDependantAsync(string dependantId)
    {
        using var scope = LogScope();
        await ExpireIfDueAsync();
        if (!IsVisible)
        {
            return DependantStatus.NotFound;
        }

        await TransitionAsync(record => JobTransitions.AddDependant(record, dependantId, JobSpec.MaxDependants));
        return Record.Dependants?.Contains(dependantId, StringComparer.Ordinal) == true ? DependantStatus.Added : DependantStatus.Full;
    }

    public async Task<JobEnd?> AwaitEndAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        if (EndSoFar() is { } end)
        {
            return end;
        }

        _endedOrLeaving ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            await _endedOrLeaving.Task.WaitAsync(wait < ParentWait ? wait : ParentWait, time, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // Not ended yet: the caller asks again (or no longer cares).
        }

        return EndSoFar();
    }

    /// <summary>How this job ended (also while hidden for its dependants); null while it is live.</summary>
    private JobEnd? EndSoFar() =>
        !Exists ? JobEnd.Missing(JobId)
        : Record.Status.IsTerminal() ? new JobEnd(JobId, Record.Status, Record.Status == JobStatus.Succeeded ? Record.ResultJson : null, Record.Error)
        : null;

    /// <summary>Answers every <see cref="AwaitEndAsync"/> waiting on this activation.</summary>
    private void AnswerEndWaiters()
    {
        _endedOrLeaving?.TrySetResult();
        _endedOrLeaving = null;
    }

    public Task<bool> WaitsOnAsync(string parentId) => Task.FromResult(
        Exists && !Record.Status.IsTerminal() && Record.Parents is null
        && Record.Spec.DependsOn is { } parents && parents.Contains(parentId, StringComparer.Ordinal));

    public async Task DependantSettledAsync(string dependantId)
    {
        if (Exists && Record.Removed)
        {
            await FinishRemovalOrDeliverAsync();
        }
    }

    /// <summary>
    /// After a transition that ended this job's wait for its parents (its first start, or an end before
    /// it ever ran): tells each parent, so one kept only for it can go.
    /// </summary>
    private void SettleWithParents(JobTransition change)
    {
        var settled = change.Kind == JobTransitionKind.Start ? Record.Attempt == 1 : change.IsEnding && Record.StartedAt is null;
        if (settled && Record.Spec.DependsOn is { } parents)
        {
            foreach (var parent in parents)
            {
                GrainFactory.Parent(Tenant, parent).DependantSettledAsync(JobId).Ignore();
            }
        }
    }

    /// <summary>
    /// After a start or an ending of a batch's job: tells the batch (one-way; lost, the batch asks).
    /// </summary>
    private void TellBatch(JobTransition change)
    {
        if (Record.Spec.BatchId is { } batchId && (change.Kind == JobTransitionKind.Start || change.IsEnding))
        {
            GrainFactory.Batch(Tenant, batchId).JobChangedAsync(JobId, Record.Status).Ignore();
        }
    }

    /// <summary>
    /// Before a job with <c>depends_on</c> is created: records it as a dependant in each parent. Null when
    /// every parent took it; else the refusal naming the unknown parents (never submitted, of another
    /// tenant, removed) or those that have as many dependants as one job may. A parent that took it
    /// keeps it even if this job is then refused or never created: asked later, this job says it waits on nothing.
    /// </summary>
    private async Task<SubmitReply?> AddToParentsAsync(IReadOnlyList<string> parents)
    {
        var answers = await Task.WhenAll(parents.Select(parent => GrainFactory.Parent(Tenant, parent).AddDependantAsync(JobId)));
        var unknown = parents.Where((_, i) => answers[i] == DependantStatus.NotFound).ToList();
        if (unknown.Count > 0)
        {
            return new SubmitReply(SubmitStatus.Rejected, null, "depends_on", $"No such job: {JobDependencies.Names(unknown)}");
        }

        var full = parents.Where((_, i) => answers[i] == DependantStatus.Full).ToList();
        return full.Count == 0 ? null : new SubmitReply(SubmitStatus.Rejected, null, "depends_on",
            $"Already depended on by {JobSpec.MaxDependants} jobs, the most one job may have: {JobDependencies.Names(full)}");
    }

    /// <summary>
    /// Waits until how the parents ended lets the job run (their ends, for its work; empty for a job that
    /// depends on nothing, or one that already started), or ends it cancelled when its <c>run_if</c> can no
    /// longer hold, or failed when the parents' results are larger than one result may be (then null).
    /// </summary>
    private async Task<JobEnd[]?> UntilParentsAllowAsync(CancellationToken stop)
    {
        if (Record.Spec.DependsOn is not { Count: > 0 } parents || Record.Parents is not null)
        {
            return [];
        }

        using var counted = admission.WaitForParents();
        var ends = new Dictionary<string, JobEnd>(StringComparer.Ordinal);
        var arrived = Channel.CreateUnbounded<JobEnd>(new UnboundedChannelOptions { SingleReader = true });
        using var asking = CancellationTokenSource.CreateLinkedTokenSource(stop);
        (_pendingParents, _waiting) = (new HashSet<string>(parents, StringComparer.Ordinal), JobWaits.DependsOn);
        foreach (var parent in parents)
        {
            _ = AskParentAsync(parent, arrived.Writer, asking.Token);
        }

        try
        {
            while (true)
            {
                var end = await arrived.Reader.ReadAsync(stop);
                ends[end.JobId] = end;
                _pendingParents.Remove(end.JobId);
                var decision = JobDependencies.Decide(Record.Spec.RunIf, parents, ends);
                if (decision.Verdict == DependencyVerdict.Wait)
                {
                    continue;
                }

                if (decision.Verdict == DependencyVerdict.Cancel)
                {
                    LogCancelledByDependency(logger, JobId, decision.Reason!);
                    await UntilStoredAsync(() => EndAsync(record => JobTransitions.CancelByDependency(
                        record, decision.Reason!, _liveProgress, _events.Published, time.GetUtcNow(), _ids)), stop);
                    return null;
                }

                JobEnd[] known = [.. parents.Where(ends.ContainsKey).Select(parent => ends[parent])];
                var resultChars = known.Sum(e => (long)(e.ResultJson?.Length ?? 0));
                if (resultChars > options.Value.MaxResultChars)
                {
                    await UntilStoredAsync(() => FailAsync(
                        $"The results of the jobs it depends on total {resultChars} characters; the limit is {options.Value.MaxResultChars} (Jobs:MaxResultChars)",
                        "its parents' results are too large"), stop);
                    return null;
                }

                return known;
            }
        }
        finally
        {
            await asking.CancelAsync();
            _pendingParents = null;
        }
    }

    /// <summary>
    /// Asks <paramref name="parentId"/> how it ended until it says, then writes that to
    /// <paramref name="arrived"/>; a failed ask (its silo lost, a timeout) is asked again, waiting longer
    /// each time. Stops (cancelled) when <paramref name="stop"/> fires.
    /// </summary>
    private async Task AskParentAsync(string parentId, ChannelWriter<JobEnd> arrived, CancellationToken stop)
    {
        var parent = GrainFactory.Parent(Tenant, parentId);
        var delay = FirstStorageRetry;
        while (true)
        {
            try
            {
                if (await parent.AwaitEndAsync(ParentWait, stop) is { } end)
                {
                    arrived.TryWrite(end with { JobId = parentId });
                    return;
                }

                delay = FirstStorageRetry;
                continue;
            }
            catch (Exception exception) when (!stop.IsCancellationRequested)
            {
                LogParentAskFailed(logger, exception, JobId, parentId, delay);
            }

            await Task.Delay(delay, time, stop); // ends the ask, cancelled, once the child no longer waits
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestStorageRetry.Ticks));
        }
    }

    /// <summary>
    /// True while some job that depends on this one still waits to learn how it ended: then a removal
    /// (delete, retention, eviction) only hides it. Unsure (a dependant did not answer) counts as true:
    /// the sweep asks again.
    /// </summary>
    private async Task<bool> HasWaitingDependantsAsync()
    {
        if (Record.Dependants is not { Length: > 0 } dependants)
        {
            return false;
        }

        try
        {
            var waits = await Task.WhenAll(dependants.Select(dependant => GrainFactory.Job(Tenant, dependant).WaitsOnAsync(JobId)));
            return waits.Contains(true);
        }
        catch (Exception exception)
        {
            LogDependantsUnanswered(logger, exception, JobId);
            return true;
        }
    }
}
