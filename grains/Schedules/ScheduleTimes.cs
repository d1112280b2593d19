using Cronos;

namespace Praison.Orleans.Grains.Schedules;

/// <summary>
/// When a schedule fires: its cron expression (Cronos: 5 fields, or 6 with seconds first) in its IANA
/// time zone. Cronos handles daylight saving: a daily 02:30 fires once on a spring-forward day (at the
/// moment the clock jumps past it) and once on a fall-back day (the first 02:30).
/// </summary>
public sealed class ScheduleTimes
{
    /// <summary>The longest cron expression and time zone id read (the contract's).</summary>
    public const int MaxCronLength = IScheduleGrain.MaxCronLength, MaxTimeZoneLength = IScheduleGrain.MaxTimeZoneLength;

    /// <summary>How many coming firings are checked against the minimum interval.</summary>
    private const int IntervalChecks = 500;

    private readonly CronExpression _cron;
    private readonly TimeZoneInfo _zone;

    private ScheduleTimes(CronExpression cron, TimeZoneInfo zone) => (_cron, _zone) = (cron, zone);

    /// <summary>
    /// The times of <paramref name="cron"/> in <paramref name="timeZone"/>, or the field and reason that
    /// refuse them: an unreadable cron, an unknown zone, a cron that never fires or fires more often than
    /// <paramref name="minInterval"/> (checked over its next 500 firings from <paramref name="now"/>; zero: not checked).
    /// </summary>
    public static (ScheduleTimes? Times, string? Field, string? Error) Parse(string cron, string timeZone, TimeSpan minInterval, DateTimeOffset now)
    {
        var fields = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Length;
        if (cron.Length > MaxCronLength || fields is not (5 or 6) && !cron.TrimStart().StartsWith('@'))
        {
            return (null, "cron", "Must be a cron expression of 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first)");
        }

        CronExpression expression;
        try
        {
            expression = CronExpression.Parse(cron.Trim(), fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
        }
        catch (CronFormatException exception)
        {
            return (null, "cron", $"Invalid cron expression: {exception.Message}");
        }

        if (timeZone.Length > MaxTimeZoneLength || !TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out var zone))
        {
            return (null, "timezone", "Must be an IANA time zone id, e.g. UTC or Europe/Berlin");
        }

        var times = new ScheduleTimes(expression, zone);
        var tooShort = minInterval > TimeSpan.Zero ? times.Gaps(now).FirstOrDefault(gap => gap < minInterval) : TimeSpan.Zero; // zero: none
        if (tooShort > TimeSpan.Zero)
        {
            return (null, "cron", $"Fires {tooShort.TotalSeconds:0.###} s apart; schedules may fire at most every {minInterval.TotalSeconds:0.###} s (Schedules:MinInterval)");
        }

        return times.NextAfter(now) is null ? (null, "cron", "Never fires") : (times, null, null);
    }

    /// <summary>The first firing strictly after <paramref name="instant"/>; null when there is none.</summary>
    public DateTimeOffset? NextAfter(DateTimeOffset instant) => _cron.GetNextOccurrence(instant, _zone);

    /// <summary>
    /// The latest firing at or before <paramref name="now"/>, starting from <paramref name="first"/> (a
    /// firing, itself due), and how many due firings before it were passed over.
    /// </summary>
    public (DateTimeOffset Latest, long PassedOver) LatestDue(DateTimeOffset first, DateTimeOffset now)
    {
        var (latest, passed) = (first, 0L);
        while (NextAfter(latest) is { } next && next <= now)
        {
            (latest, passed) = (next, passed + 1);
        }

        return (latest, passed);
    }

    private IEnumerable<TimeSpan> Gaps(DateTimeOffset from)
    {
        var previous = NextAfter(from);
        for (var i = 0; i < IntervalChecks && previous is { } at; i++)
        {
            var next = NextAfter(at);
            if (next is { } following)
            {
                yield return following - at;
            }

            previous = next;
        }
    }
}
