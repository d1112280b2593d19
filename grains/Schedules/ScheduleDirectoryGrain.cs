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
    public async Task<bool> TryAddAsync(string scheduleId, int max)
    {
        if (state.State.Ids.Contains(scheduleId))
        {
            return true;
        }

        if (state.State.Ids.Count >= max)
        {
            return false;
        }

        state.State.Ids.Add(scheduleId);
        await state.StoreAsync(state.WriteStateAsync, GrainContext, logger, "a tenant's schedule list");
        return true;
    }

    public async Task RemoveAsync(string scheduleId)
    {
        if (state.State.Ids.Remove(scheduleId))
        {
            await state.StoreAsync(state.WriteStateAsync, GrainContext, logger, "a tenant's schedule list");
        }
    }

    public Task<(IReadOnlyList<string> Ids, int Total)> ListAsync(int page, int pageSize)
    {
        var ids = state.State.Ids;
        var newestFirst = Enumerable.Range(0, ids.Count).Select(i => ids[ids.Count - 1 - i]);
        return Task.FromResult<(IReadOnlyList<string>, int)>((newestFirst.Skip((page - 1) * pageSize).Take(pageSize).ToList(), ids.Count));
    }
}
