namespace Praison.Orleans.Grains.Jobs;

/// <summary>
/// The commit rule: nothing outside the grain (a reply, an event, the index, a webhook) sees a state
/// that storage does not hold. A change is made to a copy of the stored record, written, and only then
/// swapped in; readers only ever see <see cref="_stored"/>. A write that reports failure is settled
/// from storage before anything else happens: read back, it either committed after all (the ambiguous
/// case) or did not, and the job is exactly as storage holds it. If storage cannot even be read, the
/// activation goes away and the next one starts from storage.
/// </summary>
public sealed partial class JobGrain
{
    /// <summary>One write (or removal) at a time; requests, the run loop and timers all go through it.</summary>
    private readonly SemaphoreSlim _writes = new(1, 1);

    /// <summary>The record as storage last confirmed it; null when there is no job (never submitted, or removed).</summary>
    private JobRecord? _stored;

    private bool Exists => _stored is not null;

    /// <summary>The stored record; only used where the job is known to exist.</summary>
    private JobRecord Record => _stored!;

    /// <summary>
    /// Applies <paramref name="change"/> to a copy of the stored record and commits it; false (nothing
    /// written) when there is no job or the change declines. Throws <see cref="JobStorageException"/>
    /// when storage did not take it; the stored record is then unchanged.
    /// </summary>
    private async Task<bool> UpdateAsync(Func<JobRecord, bool> change)
    {
        await _writes.WaitAsync();
        try
        {
            if (_stored is null)
            {
                return false;
            }

            var next = _stored.Copy();
            if (!change(next))
            {
                return false;
            }

            await CommitAsync(next);
            return true;
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>
    /// Stores a new job. Its index entry is written first, and must be: it is what the sweep finds the
    /// job by. If the record's write then fails, the sweep finds no job behind the entry and removes it,
    /// whereas a stored job without an entry could never be recovered.
    /// </summary>
    private async Task CreateAsync(JobRecord record)
    {
        await _writes.WaitAsync();
        try
        {
            await WriteIndexEntryOrRefuseAsync(record, removed: false, "it was not created");
            await CommitAsync(record);
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>Removes the record; the caller holds <see cref="_writes"/>.</summary>
    private async Task ClearAsync()
    {
        try
        {
            await job.ClearStateAsync();
        }
        catch (Exception failure)
        {
            if (!await CommittedAfterAllAsync(stored => stored is null, failure))
            {
                throw new JobStorageException($"Storage did not remove job {JobId}; it is unchanged.");
            }
        }

        _stored = null;
    }

    /// <summary>Writes <paramref name="next"/> and makes it the stored record; the caller holds <see cref="_writes"/>.</summary>
    private async Task CommitAsync(JobRecord next)
    {
        next.Revision = (_stored?.Revision ?? 0) + 1;
        job.State = next;
        try
        {
            await job.WriteStateAsync();
        }
        catch (Exception failure)
        {
            if (!await CommittedAfterAllAsync(stored => stored?.Revision == next.Revision, failure))
            {
                throw new JobStorageException($"Storage did not take a change of job {JobId}; it is unchanged.");
            }
        }

        _stored = next;
    }

    /// <summary>
    /// After a write that reported failure: reads storage back and says whether it holds what the write
    /// meant (<paramref name="committed"/>). When it does not, the write is lost and the job is what storage
    /// holds: adopted when no attempt runs here; otherwise, or when storage cannot be read, this
    /// activation goes away and the next one starts from storage.
    /// </summary>
    private async Task<bool> CommittedAfterAllAsync(Func<JobRecord?, bool> committed, Exception failure)
    {
        try
        {
            await job.ReadStateAsync();
        }
        catch (Exception readFailure)
        {
            LogWriteFailed(logger, failure, JobId);
            LogReadBackFailed(logger, readFailure, JobId);
            job.State = _stored ?? new JobRecord();
            DeactivateOnIdle();
            return false;
        }

        var stored = StoredRecord();
        if (committed(stored))
        {
            LogCommittedAfterAll(logger, failure, JobId);
            return true;
        }

        LogWriteFailed(logger, failure, JobId);
        if (stored?.Revision != _stored?.Revision)
        {
            // Someone else wrote (a lost silo's last write landing late, say). With no attempt running
            // here, what storage holds simply becomes this activation's record; otherwise start over.
            LogDiverged(logger, JobId, stored?.Revision, _stored?.Revision);
            if (LoopIsLive)
            {
                DeactivateOnIdle();
            }
            else
            {
                _stored = stored;
            }
        }

        return false;
    }

    /// <summary>What the persistent state holds as read or written last; null when no job is stored.</summary>
    private JobRecord? StoredRecord() => job.RecordExists && job.State.Spec is not null ? job.State : null;

    /// <summary>
    /// False when there is no job: never submitted, deleted, or past its retention — an expired job is
    /// removed here, on first sight, whether or not the sweep has come by yet.
    /// </summary>
    private async Task<bool> PresentAsync()
    {
        if (Exists && !Record.Removed && Record.Status.IsTerminal() && options.Value.IsExpired(Record.CompletedAt, time.GetUtcNow()))
        {
            await RemoveAsync("its retention ended");
        }

        return Exists && !Record.Removed;
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
            await HideAsync(reason);
            return;
        }

        var (idempotencyKey, createdAt) = (Record.Spec.IdempotencyKey, Record.CreatedAt);
        await _writes.WaitAsync();
        try
        {
            if (_stored is not { } record)
            {
                return;
            }

            // The entry is hidden first: should the record's removal or the entry's then fail, no client
            // lists or counts the job, and the sweep (which visits hidden entries) drops what is left.
            await WriteIndexEntryOrRefuseAsync(record, removed: true, "it is unchanged");
            await ClearAsync();
            _webhookStop?.Cancel();
            _events.EndAll();
            await UnindexAsync(createdAt);
        }
        finally
        {
            _writes.Release();
        }

        if (idempotencyKey is not null)
        {
            ReleaseIdempotencyKey(idempotencyKey);
        }

        LogRemoved(logger, JobId, reason);
        DeactivateOnIdle();
    }

    /// <summary>
    /// Removes the job for clients but keeps it, and its index entry due for the sweep, until its pending
    /// webhook settles (<see cref="FinishRemovalOrDeliverAsync"/>): deleting a job never drops its webhook.
    /// </summary>
    private async Task HideAsync(string reason)
    {
        await UpdateAsync(record =>
        {
            var hiding = !record.Removed;
            record.Removed = true;
            return hiding;
        });
        _events.EndAll();
        await IndexAsync();
        if (Record.Spec.IdempotencyKey is { } idempotencyKey)
        {
            ReleaseIdempotencyKey(idempotencyKey);
        }

        LogHidden(logger, JobId, reason);
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
    /// Frees the job's idempotency key, one-way (the key's grain may be waiting on this job). Lost, it
    /// costs nothing: the key's grain finds its job gone on the next submit and creates a new one.
    /// </summary>
    private void ReleaseIdempotencyKey(string idempotencyKey) =>
        GrainFactory.IdempotencyKey(Tenant, idempotencyKey).ReleaseAsync(JobId).Ignore();
}
