using Praison.Orleans.Grains.Index;

namespace Praison.Orleans.Grains.Jobs;

/// <summary>
/// The job's store: its record (committed by the rule every grain state follows,
/// <see cref="Storage.CommittedState{T}"/>: nothing outside the grain sees what storage does not hold) and
/// its index entry, changed together by one commit; and the job's removal.
/// </summary>
public sealed partial class JobGrain
{
    /// <summary>One write (or removal) at a time; requests, the run loop and timers all go through it.</summary>
    private readonly SemaphoreSlim _writes = new(1, 1);

    private Storage.CommittedState<JobRecord>? _store;

    /// <summary>The record as storage last confirmed it; null when there is no job (never submitted, or removed).</summary>
    private Storage.CommittedState<JobRecord> Store => _store ??= new(
        job, GrainContext, logger, $"job {JobId}", record => record.Spec is not null, mayAdopt: () => !LoopIsLive);

    private JobRecord? Current => Store.Stored;

    private bool Exists => Current is not null;

    /// <summary>The stored record; only used where the job is known to exist.</summary>
    private JobRecord Record => Current!;

    /// <summary>
    /// The store's commit: <paramref name="next"/> and the index change its transition carries, as one
    /// unit; the caller holds <see cref="_writes"/>. A new job's entry goes first, and must: it is what
    /// the sweep finds the job by (should the record's write then fail, the sweep finds no job behind the
    /// entry and drops it, whereas a stored job without an entry could never be recovered). Other
    /// changes write the entry after the record, from it, when the entry shows what changed: a failure
    /// there is logged, as the next write or the sweep writes it again.
    /// </summary>
    private async Task StoreAsync(JobRecord next, JobTransitionKind kind)
    {
        if (kind == JobTransitionKind.Submit)
        {
            await WriteIndexEntryOrRefuseAsync(next, removed: false, "it was not created");
        }

        await Store.CommitAsync(next);
        if (kind is not (JobTransitionKind.Submit or JobTransitionKind.Start or JobTransitionKind.Checkpoint))
        {
            // A start reaches the index at the first checkpoint: a job that ends before then costs one
            // index write fewer, and its entry goes from queued straight to its end.
            await TryWriteIndexEntryAsync(next);
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
    /// Removes the job and all that points at it: the record, its index entry, its watchers and its
    /// idempotency key. The index entry goes under the same lock as every index write of this job, so no
    /// late write can bring it back; it is hidden before the record goes, and if its removal fails the
    /// sweep finds the hidden entry, no job behind it, and removes it.
    /// </summary>
    private async Task RemoveAsync(string reason)
    {
        using var scope = LogScope(); // also reached from reads, when a job's retention has ended
        if (Record.WebhookPending)
        {
            await TransitionAsync(record => JobTransitions.Hide(record, reason)); // until the webhook settles
            return;
        }

        var (idempotencyKey, createdAt) = (Record.Spec.IdempotencyKey, Record.CreatedAt);
        await _writes.WaitAsync();
        try
        {
            if (Current is not { } record)
            {
                return;
            }

            // The entry is hidden first: should the record's removal or the entry's then fail, no client
            // lists or counts the job, and the sweep (which visits hidden entries) drops what is left.
            await WriteIndexEntryOrRefuseAsync(record, removed: true, "it is unchanged");
            await Store.ClearAsync();
            _webhookStop?.Cancel();
            _events.EndAll();
            await UnindexAsync(createdAt);
        }
        finally
        {
            _writes.Release();
        }

        ReleaseIdempotencyKey(idempotencyKey);
        LogRemoved(logger, JobId, reason);
        DeactivateOnIdle();
    }

    /// <summary>For a removed job: finishes the removal once its webhook has settled, else delivers it.</summary>
    private async Task FinishRemovalOrDeliverAsync()
    {
        if (Record.WebhookPending)
        {
            StartWebhookDelivery();
        }
        else
        {
            await RemoveAsync("removed earlier; its webhook has settled");
        }
    }

    /// <summary>
    /// Frees the job's idempotency key, if it has one, one-way (the key's grain may be waiting on this
    /// job). Lost, it costs nothing: the key's grain finds its job gone on the next submit and creates a new one.
    /// </summary>
    private void ReleaseIdempotencyKey(string? idempotencyKey = null)
    {
        if ((idempotencyKey ?? Current?.Spec.IdempotencyKey) is { } key)
        {
            GrainFactory.IdempotencyKey(Tenant, key).ReleaseAsync(JobId).Ignore();
        }
    }
}
