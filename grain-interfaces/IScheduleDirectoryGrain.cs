namespace Praison.Orleans.GrainInterfaces;

/// <summary>A tenant's schedule ids, newest first, for listing (key: the tenant).</summary>
[Alias("Praison.IScheduleDirectoryGrain")]
public interface IScheduleDirectoryGrain : IGrainWithStringKey
{
    /// <summary>Adds <paramref name="scheduleId"/> unless the tenant already has <paramref name="max"/>; false then.</summary>
    [Alias("TryAdd")]
    Task<bool> TryAddAsync(string scheduleId, int max);

    [Alias("Remove")]
    Task RemoveAsync(string scheduleId);

    /// <summary>A page of ids, newest first, and how many there are.</summary>
    [Alias("List")]
    Task<(IReadOnlyList<string> Ids, int Total)> ListAsync(int page, int pageSize);
}
