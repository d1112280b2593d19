namespace Praison.Orleans.GrainInterfaces;

/// <summary>One schedule of one tenant (key: <see cref="JobKeys.ForSchedule"/>).</summary>
[Alias("Praison.IScheduleGrain")]
public interface IScheduleGrain : IGrainWithStringKey
{
    /// <summary>The longest schedule id (ids: letters, digits, <c>_</c> and <c>-</c>).</summary>
    const int MaxIdLength = 64;

    /// <summary>The longest cron expression read.</summary>
    const int MaxCronLength = 256;

    /// <summary>The longest time zone id read.</summary>
    const int MaxTimeZoneLength = 64;

    [Alias("Create")]
    Task<ScheduleReply> CreateAsync(ScheduleSpec spec);

    [Alias("Get")]
    Task<ScheduleSnapshot?> GetAsync();

    /// <summary>Applies <paramref name="patch"/>; a new cron, zone or a resume counts from now.</summary>
    [Alias("Update")]
    Task<ScheduleReply> UpdateAsync(SchedulePatch patch);

    /// <summary>Removes the schedule; the jobs it submitted stay. False when there was none.</summary>
    [Alias("Delete")]
    Task<bool> DeleteAsync();

    /// <summary>Submits the schedule's job now, whatever its times, pause or overlap; null when there is no schedule.</summary>
    [Alias("Trigger")]
    Task<SubmitReply?> TriggerAsync();
}
