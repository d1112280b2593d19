using Praison.Orleans.Grains.Index;

namespace Praison.Orleans.Grains.Jobs;

/// <summary>
/// The job's side of its store (<see cref="JobStore"/>, the seam: record and index entry committed as
/// one unit): one write at a time, what each transition changes in the index, the entry's shape, and the
/// job's removal.
/// </summary>
public sealed partial class JobGrain
{
    /// <summary>One write (or removal) at a time; requests, the run loop and timers all go through it.</summary>
    private readonly SemaphoreSlim _writes = new(1, 1);

    private JobStore? _store;

    private JobStore Store => _store ??= new(
        new Storage.CommittedState<JobRecord>(
            job, GrainContext, logger, "job", record => record.Spec is not null, mayAdopt: () => !LoopIsLive),
        index, Tenant, JobId, this, logger);

    /// <summary>The record as storage last confirmed it; null when there is no job (never submitted, or removed).</summary>
    private JobRecord? Current => Store.Stored;

    private bool Exists => Current is not null;

    /// <summary>The stored record; only used where the job is known to exist.</summary>
    private JobRecord Record => Current!;

    /// <summary>
    /// What a transition changes in the index: a new job's entry comes first; a start reaches the index at
    /// the first checkpoint (a job that ends before then costs one index write fewer, and its entry goes
    /// from queued straight to its end); a checkpoint's progress is not listed.
    /// </summary>
    private static JobIndexChange IndexChangeOf(JobTransitionKind kind) => kind switch
    {
        JobTransitionKind.Submit => JobIndexChange.First,
        JobTransitionKind.Start or JobTransitionKind.Checkpoint => JobIndexChange.None,
        _ => JobIndexChange.After,
    };

    JobIndexEntry IJobEntries.EntryOf(JobRecord record, bool removed) =>
        new(Tenant, Snapshot(record), record.StatusEventId, record.Spec.IdempotencyKey is not null, record.Removed || removed);

    /// <summary>Writes this job's entry outside a transition (<see cref="JobStore.IndexAsync"/>), under <see cref="_writes"/>.</summary>
    private async Task IndexAsync()
    {
        await _writes.WaitAsync();
        try
        {
            await Store.IndexAsync();
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>True while clients see the job: submitted, and neither deleted nor past its retention.</summary>
    private bool IsVisible => Exists && !Record.Removed;

    /// <summary>
    /// Removes the job if its retention has ended: on first sight, by whatever request or sweep comes
    /// first. Every request checks this before it looks at <see cref="IsVisible"/>.
    /// </summary>
    private async Task ExpireIfDueAsync()
    {
        if (IsVisible && Record.Status.IsTerminal() && options.Value.IsExpired(Record.CompletedAt, time.GetUtcNow()))
        {
            await RemoveAsync("its retention ended");
        }
    }

    /// <summary>
    /// Removes the job and all that points at it: the record and its index entry (<see cref="JobStore.RemoveAsync"/>),
    /// its watchers and its idempotency key. The entry goes under the same lock as every index write of
    /// this job, so no late write can bring it back.
    /// </summary>
    private async Task RemoveAsync(string reason)
    {
        using var scope = LogScope(); // also reached from reads, when a job's retention has ended
        // A job that never ended (deleted while waiting for its time) is not held: its dependants learn it is gone.
        if (Record.WebhookPending || (Record.Status.IsTerminal() && await HasWaitingDependantsAsync()))
        {
            await TransitionAsync(record => JobTransitions.Hide(record, reason)); // until the webhook settles and no dependant waits
            return;
        }

        var idempotencyKey = Record.Spec.IdempotencyKey;
        await _writes.WaitAsync();
        try
        {
            if (!Exists)
            {
                return;
            }

            await Store.RemoveAsync();
            _webhookStop?.Cancel();
            _events.EndAll();
            AnswerEndWaiters();
        }
        finally
        {
            _writes.Release();
        }

        ReleaseIdempotencyKey(idempotencyKey);
        LogRemoved(logger, JobId, reason);
        DeactivateOnIdle();
    }

    /// <summary>For a removed job: finishes the removal once its webhook has settled and no dependant waits on it, else delivers the webhook.</summary>
    private async Task FinishRemovalOrDeliverAsync()
    {
        if (Record.WebhookPending)
        {
            StartWebhookDelivery();
        }
        else
        {
            await RemoveAsync("removed earlier; its webhook has settled and no dependant waits on it");
        }
    }

    /// <summary>
    /// Frees the job's idempotency key, if it has one, one-way (the key's grain may be waiting on this
    /// job). Lost, it costs nothing: the key's grain finds its job gone on the next submit and creates a new one.
    /// </summary>
    private void ReleaseIdempotencyKey(string? idempotencyKey)
    {
        if (idempotencyKey is not null)
        {
            GrainFactory.IdempotencyKey(Tenant, idempotencyKey).ReleaseAsync(JobId).Ignore();
        }
    }
}
