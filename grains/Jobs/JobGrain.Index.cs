namespace Praison.Orleans.Grains.Jobs;

/// <summary>
/// The job's entry in the job index (<see cref="Index.IJobIndex"/>): written from the stored record only,
/// under the same lock as the record's writes, so an entry never runs ahead of storage and no late
/// write lands after the job's removal.
/// </summary>
public sealed partial class JobGrain
{
    // What this activation last wrote to the index: the entry's version (status event id) and whether
    // it said a webhook is pending. Default: nothing written yet.
    private (long Version, bool WebhookPending) _indexed;

    // What the index returned for that write, handed back with the next one (Azure: no read before it).
    private Index.JobIndexWrite? _indexWrite;

    /// <summary>
    /// Writes this job's entry from the stored record, outside a transition: an entry a lost activation
    /// or a failed write left behind, or a running job's first. A failure is logged, not thrown.
    /// </summary>
    private async Task IndexAsync()
    {
        await _writes.WaitAsync();
        try
        {
            if (Current is { } record)
            {
                await TryWriteIndexEntryAsync(record);
            }
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>
    /// Writes the entry of <paramref name="record"/>; the caller holds <see cref="_writes"/>. A failure is
    /// logged, not thrown: the job itself is stored, its entry is there from submit, and the next
    /// transition (or sweep) writes it again.
    /// </summary>
    private async Task TryWriteIndexEntryAsync(JobRecord record)
    {
        try
        {
            await WriteIndexEntryAsync(record);
        }
        catch (Exception exception)
        {
            LogIndexFailed(logger, exception, JobId);
        }
    }

    /// <summary>Writes the entry of <paramref name="record"/>; the caller holds <see cref="_writes"/>.</summary>
    private async Task WriteIndexEntryAsync(JobRecord record, bool removed = false)
    {
        var written = (record.StatusEventId, record.WebhookPending);
        _indexWrite = await index.UpsertAsync(
            new JobIndexEntry(Tenant, Snapshot(record), written.StatusEventId, record.Spec.IdempotencyKey is not null, record.Removed || removed),
            _indexWrite);
        _indexed = written;
    }

    /// <summary>
    /// Writes the entry where the change must not go on without it (a new job's entry, or a removed
    /// job's hidden one, both before the record); the caller holds <see cref="_writes"/>. Throws
    /// <see cref="JobStorageException"/> when the index did not take it: nothing has changed then.
    /// </summary>
    private async Task WriteIndexEntryOrRefuseAsync(JobRecord record, bool removed, string outcome)
    {
        try
        {
            await WriteIndexEntryAsync(record, removed);
        }
        catch (Exception exception)
        {
            LogIndexFailed(logger, exception, JobId);
            throw new JobStorageException($"The job index did not take job {JobId}; {outcome}.");
        }
    }

    /// <summary>Removes the entry; the caller holds <see cref="_writes"/>. A failure is logged: the sweep drops an entry with no job.</summary>
    private async Task UnindexAsync(DateTimeOffset createdAt)
    {
        try
        {
            await index.RemoveAsync(Tenant, JobId, createdAt, _indexWrite);
            _indexWrite = null;
        }
        catch (Exception exception)
        {
            LogIndexFailed(logger, exception, JobId);
        }
    }
}
