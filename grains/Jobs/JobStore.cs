using Microsoft.Extensions.Logging;
using Praison.Orleans.Grains.Index;
using Praison.Orleans.Grains.Storage;

namespace Praison.Orleans.Grains.Jobs;

/// <summary>Where a transition's index change goes relative to its record (<see cref="JobStore.CommitAsync"/>).</summary>
public enum JobIndexChange
{
    /// <summary>The entry does not change (a start reaches the index at the first checkpoint).</summary>
    None,

    /// <summary>Before the record, and the commit fails without it: a new job's entry.</summary>
    First,

    /// <summary>After the record, from it; a failure is logged (the next write or the sweep writes it again).</summary>
    After,
}

/// <summary>What a job's index entry says of its record (the grain knows: it adds the progress reported since the last checkpoint).</summary>
public interface IJobEntries
{
    /// <summary>The entry of <paramref name="record"/>; <paramref name="removed"/>: hidden before its removal.</summary>
    JobIndexEntry EntryOf(JobRecord record, bool removed);
}

/// <summary>
/// One job's store, the seam every change of it goes through: its record (by the commit rule of
/// <see cref="CommittedState{T}"/>) and its index entry (<see cref="IJobIndex"/>) committed as one
/// unit, read, and removed. In memory and Azure mode the unit is two writes in a fixed order (a blob
/// and a table transaction in Azure): a new job's entry first, as it is what the sweep finds the job
/// by (should the record's write then fail, the sweep finds no job behind the entry and drops it,
/// whereas a stored job without an entry could never be recovered); every later entry after its
/// record, so an entry never runs ahead of storage. One activation's store; its caller (the grain)
/// makes one call at a time.
/// </summary>
public sealed partial class JobStore(
    CommittedState<JobRecord> record, IJobIndex index, string tenant, string jobId, IJobEntries entries,
    ILogger logger)
{
    // What the index returned for the last write, handed back with the next one (Azure: no read before it).
    private JobIndexWrite? _indexWrite;

    /// <summary>The record as storage last confirmed it; null when there is no job (never submitted, or removed).</summary>
    public JobRecord? Stored => record.Stored;

    /// <summary>
    /// What this activation last wrote to the index: the entry's version (its status event id) and
    /// whether it said a webhook is pending. Default: nothing written yet.
    /// </summary>
    public (long Version, bool WebhookPending) Indexed { get; private set; }

    /// <summary>
    /// Commits <paramref name="next"/> with <paramref name="change"/> of its entry. Throws
    /// <see cref="JobStorageException"/> when the record (or a first entry) was not taken: the stored
    /// record is then unchanged.
    /// </summary>
    public async Task CommitAsync(JobRecord next, JobIndexChange change)
    {
        if (change == JobIndexChange.First)
        {
            await WriteEntryOrRefuseAsync(next, removed: false, "it was not created");
        }

        await record.CommitAsync(next);
        if (change == JobIndexChange.After)
        {
            await TryWriteEntryAsync(next);
        }
    }

    /// <summary>
    /// Writes the entry of the stored record outside a transition (one a lost activation or a failed
    /// write left behind, or a running job's first); a failure is logged, not thrown.
    /// </summary>
    public Task IndexAsync() => record.Stored is { } stored ? TryWriteEntryAsync(stored) : Task.CompletedTask;

    /// <summary>
    /// Removes the job: its entry is hidden first (should the record's removal or the entry's then fail,
    /// no client lists or counts the job, and the sweep, which visits hidden entries, drops what is
    /// left), then the record, then the entry. Throws <see cref="JobStorageException"/> when the hidden
    /// entry or the record's removal was not taken.
    /// </summary>
    public async Task RemoveAsync()
    {
        if (record.Stored is not { } stored)
        {
            return;
        }

        await WriteEntryOrRefuseAsync(stored, removed: true, "it is unchanged");
        await record.ClearAsync();
        try
        {
            await index.RemoveAsync(tenant, jobId, stored.CreatedAt, _indexWrite);
            _indexWrite = null;
        }
        catch (Exception exception)
        {
            LogIndexFailed(logger, exception, jobId); // the sweep drops an entry with no job
        }
    }

    private async Task TryWriteEntryAsync(JobRecord of)
    {
        try
        {
            await WriteEntryAsync(of, removed: false);
        }
        catch (Exception exception)
        {
            LogIndexFailed(logger, exception, jobId);
        }
    }

    private async Task WriteEntryOrRefuseAsync(JobRecord of, bool removed, string outcome)
    {
        try
        {
            await WriteEntryAsync(of, removed);
        }
        catch (Exception exception)
        {
            LogIndexFailed(logger, exception, jobId);
            throw new JobStorageException($"The job index did not take job {jobId}; {outcome}.");
        }
    }

    private async Task WriteEntryAsync(JobRecord of, bool removed)
    {
        _indexWrite = await index.UpsertAsync(entries.EntryOf(of, removed), _indexWrite);
        Indexed = (of.StatusEventId, of.WebhookPending);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: could not update its job index entry")]
    private static partial void LogIndexFailed(ILogger logger, Exception exception, string jobId);
}
