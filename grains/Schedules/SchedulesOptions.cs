namespace Praison.Orleans.Grains.Schedules;

/// <summary>How schedules fire (docs/api.md: Schedules). Bound from the <c>Schedules</c> section, validated at start-up.</summary>
public sealed class SchedulesOptions
{
    public const string Section = "Schedules";

    /// <summary>The shortest time between two firings a schedule's cron may ask for. Default: 1 minute.</summary>
    public TimeSpan MinInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The period of each schedule's durable reminder, the backstop that fires it after its silo is
    /// lost (a timer fires it on time while its silo lives). Default: 1 minute, Orleans' least reminder period.
    /// </summary>
    public TimeSpan CheckPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How late a firing may come and still be on time. One found later than this (no silo could fire it:
    /// the whole cluster was down) is a missed firing, which the schedule's <c>catch_up</c> fires once or
    /// skips. Default: 5 minutes (a lost silo's schedules move to another within a minute or two).
    /// </summary>
    public TimeSpan LateFiringGrace { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How many schedules one tenant may have. Default: 1,000.</summary>
    public int MaxPerTenant { get; set; } = 1000;

    /// <summary>The problems with these options (given Orleans' least reminder period), empty when they are valid.</summary>
    public IEnumerable<string> Problems(TimeSpan minimumReminderPeriod)
    {
        if (MinInterval <= TimeSpan.Zero)
        {
            yield return $"Schedules:MinInterval must be positive, not {MinInterval}.";
        }

        if (CheckPeriod < minimumReminderPeriod)
        {
            yield return $"Schedules:CheckPeriod ({CheckPeriod}) must be at least Orleans' minimum reminder period ({minimumReminderPeriod}).";
        }

        if (LateFiringGrace < CheckPeriod)
        {
            yield return $"Schedules:LateFiringGrace ({LateFiringGrace}) must be at least Schedules:CheckPeriod ({CheckPeriod}): an on-time firing may wait a period.";
        }

        if (MaxPerTenant is < 1 or > 1_000_000)
        {
            yield return $"Schedules:MaxPerTenant must be 1–1000000, not {MaxPerTenant}.";
        }
    }
}
