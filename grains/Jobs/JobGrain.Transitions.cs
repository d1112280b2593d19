namespace Praison.Orleans.Grains.Jobs;

/// <summary>
/// The one door for every change of the job (Hangfire's state changer is the model): under the write
/// lock, a transition (<see cref="JobTransitions"/>) decides on a copy of the stored record; the store
/// commits it with its index change (<c>JobGrain.Storage.cs</c>); then the effects that belong to the
/// new state run, in one order: publish, log and metrics, what points at the job, webhook, release.
/// </summary>
public sealed partial class JobGrain
{
    private readonly JobEventIds _ids = new();

    /// <summary>
    /// Applies <paramref name="transition"/> to a copy of the stored record and commits it; false when
    /// there is no job or the transition refused (nothing written). Throws <see cref="JobStorageException"/>
    /// when storage did not take it: the stored record is then unchanged, and no effect has run.
    /// </summary>
    private Task<bool> TransitionAsync(Func<JobRecord, JobTransition> transition) => CommitTransitionAsync(null, transition);

    /// <summary>Creates the job <paramref name="submit"/> describes; false when one exists already.</summary>
    private Task<bool> TransitionAsync(JobTransition submit) => CommitTransitionAsync(submit, null);

    private async Task<bool> CommitTransitionAsync(JobTransition? submit, Func<JobRecord, JobTransition>? transition)
    {
        JobTransition change;
        await _writes.WaitAsync();
        try
        {
            var decided = (Current, transition) switch
            {
                (null, null) => submit,
                ({ } stored, { }) => transition(stored.Copy()),
                _ => null, // a submit for a job that exists, a change of one that does not
            };
            if (decided is not { Next: { } next } made)
            {
                return false;
            }

            change = made;
            await Store.CommitAsync(next, IndexChangeOf(change.Kind));
        }
        finally
        {
            _writes.Release();
        }

        await AfterCommitAsync(change);
        return true;
    }

    /// <summary>What follows a committed <paramref name="change"/>, in this order, and only then.</summary>
    private async Task AfterCommitAsync(JobTransition change)
    {
        foreach (var e in change.Events)
        {
            _events.Publish(e);
        }

        Observe(change.Kind);
        SettleWithParents(change);
        TellBatch(change);
        if (change.Kind == JobTransitionKind.Hide)
        {
            _events.EndAll(); // gone for clients: its streams end, its key is free
            ReleaseIdempotencyKey(Record.Spec.IdempotencyKey);
        }

        if (change.IsEnding)
        {
            AnswerEndWaiters();
            StartWebhookDelivery();
        }

        if (change.Kind == JobTransitionKind.WebhookRound && Record.Removed)
        {
            await FinishRemovalOrDeliverAsync(); // deleted meanwhile: now it can go
        }
        else if (change.IsEnding || change.Kind == JobTransitionKind.WebhookRound)
        {
            ReleaseWhenIdle();
        }
    }

    /// <summary>The logs and metrics of a committed transition, from the record it left.</summary>
    private void Observe(JobTransitionKind kind)
    {
        switch (kind)
        {
            case JobTransitionKind.Submit:
                LogSubmitted(logger, JobId, Record.AgentId);
                metrics.Submitted(Record.Spec);
                break;
            case JobTransitionKind.Start:
                metrics.Started(Record.Spec, Record.Attempt, Record.CreatedAt, time.GetUtcNow());
                break;
            case JobTransitionKind.Succeed or JobTransitionKind.Fail or JobTransitionKind.Cancel:
                LogEnded(logger, JobId, Record.Status, Record.Reason!);
                metrics.Ended(Record.Spec, Record.Status, Record.StartedAt, Record.CompletedAt!.Value);
                break;
            case JobTransitionKind.Hide:
                LogHidden(logger, JobId, Record.Reason!);
                break;
            case JobTransitionKind.WebhookRound:
                var outcome = JobTransitions.WebhookOutcome(Record);
                LogWebhook(logger, JobId, outcome, Record.WebhookError, Record.WebhookRetryAt);
                metrics.WebhookRound(outcome);
                break;
        }
    }

    private Task<bool> StartAttemptAsync(JobEnd[] parents) =>
        TransitionAsync(record => JobTransitions.Start(record, time.GetUtcNow(), _ids, record.Spec.DependsOn is null ? null : parents));

    private Task<bool> SucceedAsync(string resultJson, string metricsJson) =>
        EndAsync(record => JobTransitions.Succeed(record, resultJson, metricsJson, _liveProgress, _events.Published, time.GetUtcNow(), _ids));

    private Task<bool> FailAsync(string error, string reason) =>
        EndAsync(record => JobTransitions.Fail(record, error, reason, _liveProgress, _events.Published, time.GetUtcNow(), _ids));

    private Task<bool> CancelTransitionAsync() =>
        EndAsync(record => JobTransitions.Cancel(record, _liveProgress, _events.Published, time.GetUtcNow(), _ids));

    /// <summary>
    /// An ending. While its write is in flight the work's reports are not published (<see cref="_endings"/>):
    /// their ids would follow the ending's.
    /// </summary>
    private async Task<bool> EndAsync(Func<JobRecord, JobTransition> end)
    {
        _endings++;
        try
        {
            return await TransitionAsync(end);
        }
        finally
        {
            _endings--;
        }
    }
}
