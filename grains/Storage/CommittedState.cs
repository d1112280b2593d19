using Microsoft.Extensions.Logging;

namespace Praison.Orleans.Grains.Storage;

/// <summary>A record a grain stores through <see cref="CommittedState{T}"/>: raised revision per write, and a copy to change.</summary>
public interface ICommittedRecord<out T>
{
    /// <summary>
    /// Raised by every write. After a write that reported failure, the stored revision says whether it
    /// committed all the same (the ambiguous case: committed, then the reply was lost or refused).
    /// </summary>
    long Revision { get; set; }

    /// <summary>A copy to change and commit; the stored instance is never changed.</summary>
    T Copy();
}

/// <summary>
/// The commit rule every grain's persistent state follows: nothing outside the grain (a reply, an event,
/// an index entry, a webhook) sees a state that storage does not hold. A change is made to a copy of
/// <see cref="Stored"/> and committed; only then is it <see cref="Stored"/>. A write that reports
/// failure is settled from storage before anything else happens: read back, it either committed after
/// all or did not, and the grain is exactly as storage holds it (someone else's write adopted when
/// <paramref name="mayAdopt"/> allows, else the activation goes, as it does when storage cannot be read).
/// Then <see cref="JobStorageException"/> (answered 503). Not thread-safe: one write at a time, on the
/// grain's scheduler.
/// </summary>
/// <param name="state">The grain's persistent state.</param>
/// <param name="grain">The grain, deactivated when storage cannot be read back.</param>
/// <param name="logger">The grain's logger.</param>
/// <param name="what">What the record is, for logs and errors ("job", "schedule"); the grain's id follows it.</param>
/// <param name="holds">Whether a state read back is a record at all (the default state is not).</param>
/// <param name="mayAdopt">Whether a record another writer stored may become this activation's.</param>
public sealed partial class CommittedState<T>(
    IPersistentState<T> state, IGrainContext grain, ILogger logger, string what, Func<T, bool> holds, Func<bool>? mayAdopt = null)
    where T : class, ICommittedRecord<T>, new()
{
    private T? _stored;
    private bool _read;

    /// <summary>The record as storage last confirmed it; null when there is none (never stored, or cleared).</summary>
    public T? Stored
    {
        get
        {
            if (!_read)
            {
                (_stored, _read) = (ReadBack(), true);
            }

            return _stored;
        }
    }

    /// <summary>
    /// Commits <paramref name="next"/> (a changed <see cref="ICommittedRecord{T}.Copy"/> of <see cref="Stored"/>,
    /// or a new record); throws <see cref="JobStorageException"/> when storage did not take it.
    /// </summary>
    public async Task CommitAsync(T next)
    {
        next.Revision = (Stored?.Revision ?? 0) + 1;
        state.State = next;
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception failure)
        {
            if (!await CommittedAfterAllAsync(stored => stored?.Revision == next.Revision, failure))
            {
                throw new JobStorageException($"Storage did not take a change of {what} {grain.GrainId}; it is unchanged.");
            }
        }

        _stored = next;
    }

    /// <summary>Removes the record; throws <see cref="JobStorageException"/> when storage did not.</summary>
    public async Task ClearAsync()
    {
        _ = Stored; // read first: a failed removal is judged against what was stored before it
        try
        {
            await state.ClearStateAsync();
        }
        catch (Exception failure)
        {
            if (!await CommittedAfterAllAsync(stored => stored is null, failure))
            {
                throw new JobStorageException($"Storage did not remove {what} {grain.GrainId}; it is unchanged.");
            }
        }

        _stored = null;
    }

    /// <summary>
    /// After a write that reported failure: reads storage back and says whether it holds what the write
    /// meant (<paramref name="committed"/>). When it does not, the write is lost and the record is what
    /// storage holds.
    /// </summary>
    private async Task<bool> CommittedAfterAllAsync(Func<T?, bool> committed, Exception failure)
    {
        try
        {
            await state.ReadStateAsync();
        }
        catch (Exception readFailure)
        {
            LogWriteFailed(logger, failure, what, grain.GrainId);
            LogReadBackFailed(logger, readFailure, what, grain.GrainId);
            state.State = _stored ?? new T();
            grain.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "its state could not be read back"));
            return false;
        }

        var stored = ReadBack();
        if (committed(stored))
        {
            LogCommittedAfterAll(logger, failure, what, grain.GrainId);
            return true;
        }

        LogWriteFailed(logger, failure, what, grain.GrainId);
        if (stored?.Revision != _stored?.Revision)
        {
            // Someone else wrote (a lost silo's last write landing late, say): what storage holds becomes
            // this activation's record, unless the grain is in the middle of something; then start over.
            LogDiverged(logger, what, grain.GrainId, stored?.Revision, _stored?.Revision);
            if (mayAdopt is null || mayAdopt())
            {
                _stored = stored;
            }
            else
            {
                grain.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "storage holds another writer's change"));
            }
        }

        return false;
    }

    private T? ReadBack() => state.RecordExists && holds(state.State) ? state.State : null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "{What} {Grain}: a write failed and did not commit")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string what, GrainId grain);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{What} {Grain}: a write reported failure but had committed")]
    private static partial void LogCommittedAfterAll(ILogger logger, Exception exception, string what, GrainId grain);

    [LoggerMessage(Level = LogLevel.Error, Message = "{What} {Grain}: could not read storage back after a failed write; deactivating to start again from storage")]
    private static partial void LogReadBackFailed(ILogger logger, Exception exception, string what, GrainId grain);

    [LoggerMessage(Level = LogLevel.Error, Message = "{What} {Grain}: storage holds revision {StoredRevision}, this activation wrote {OwnRevision}")]
    private static partial void LogDiverged(ILogger logger, string what, GrainId grain, long? storedRevision, long? ownRevision);
}
