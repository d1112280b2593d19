using Microsoft.Extensions.Logging;
using Praison.Orleans.Grains.Jobs;

namespace Praison.Orleans.Grains.Schedules;

/// <summary>
/// A tenant's schedule ids, for listing them (grains cannot be scanned). Added before the schedule is
/// stored and removed after it is deleted, so a listed id may name no schedule (a create whose write
/// failed after this); the list leaves those out.
/// </summary>
public sealed class ScheduleDirectoryGrain(
    [PersistentState("schedules", JobStorage.Name)] IPersistentState<ScheduleDirectoryRecord> state,
    ILogger<ScheduleDirectoryGrain> logger) : Grain, IScheduleDirectoryGrain
{
    private Storage.CommittedState<ScheduleDirectoryRecord>? _store;

    private Storage.CommittedState<ScheduleDirectoryRecord> Store =>
        _store ??= new(state, GrainContext, logger, "a tenant's schedule list", _ => true);

    private List<string> Ids => Store.Stored?.Ids ?? [];

    public async Task<bool> TryAddAsync(string scheduleId, int max)
    {
        if (Ids.Contains(scheduleId))
        {
            return true;
        }

        if (Ids.Count >= max)
        {
            return false;
        }

        var next = Store.Stored?.Copy() ?? new ScheduleDirectoryRecord();
        next.Ids.Add(scheduleId);
        await Store.CommitAsync(next);
        return true;
    }

    public async Task RemoveAsync(string scheduleId)
    {
        if (Ids.Contains(scheduleId))
        {
            var next = Store.Stored!.Copy();
            next.Ids.Remove(scheduleId);
            await Store.CommitAsync(next);
        }
    }

    public Task<(IReadOnlyList<string> Ids, int Total)> ListAsync(int page, int pageSize)
    {
        var ids = Ids;
        var newestFirst = Enumerable.Range(0, ids.Count).Select(i => ids[ids.Count - 1 - i]);
        return Task.FromResult<(IReadOnlyList<string>, int)>((newestFirst.Skip((page - 1) * pageSize).Take(pageSize).ToList(), ids.Count));
    }
}
