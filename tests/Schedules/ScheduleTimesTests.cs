using Praison.Orleans.Grains.Schedules;

namespace Praison.Orleans.Tests.Schedules;

/// <summary>Cron expressions, time zones and daylight saving, as a schedule computes its fire times.</summary>
public sealed class ScheduleTimesTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    [Fact]
    public void DailyAt0230_OnASpringForwardDay_FiresOnce_WhenTheClockJumpsPastIt()
    {
        // Europe/Berlin, 28 March 2027: 02:00 CET jumps to 03:00 CEST, so 02:30 does not exist that day.
        var times = Parse("30 2 * * *", "Europe/Berlin");

        var fired = Firings(times, Utc(2027, 3, 26, 12, 0), 3);

        Assert.Equal([Utc(2027, 3, 27, 1, 30), Utc(2027, 3, 28, 1, 0), Utc(2027, 3, 29, 0, 30)], fired);
    }

    [Fact]
    public void DailyAt0230_OnAFallBackDay_FiresOnce_AtTheFirst0230()
    {
        // Europe/Berlin, 31 October 2027: 03:00 CEST goes back to 02:00 CET, so 02:30 happens twice.
        var times = Parse("30 2 * * *", "Europe/Berlin");

        var fired = Firings(times, Utc(2027, 10, 29, 12, 0), 3);

        Assert.Equal([Utc(2027, 10, 30, 0, 30), Utc(2027, 10, 31, 0, 30), Utc(2027, 11, 1, 1, 30)], fired);
    }

    [Fact]
    public void SixFields_CountSecondsFirst()
    {
        var times = Parse("15 */10 * * * *", "UTC");

        Assert.Equal([Utc(2027, 1, 1, 0, 10, 15), Utc(2027, 1, 1, 0, 20, 15)], Firings(times, Utc(2027, 1, 1, 0, 0, 16), 2));
    }

    [Theory]
    [InlineData("not a cron", "UTC", "cron")]
    [InlineData("* * *", "UTC", "cron")]
    [InlineData("61 * * * *", "UTC", "cron")]
    [InlineData("0 0 30 2 *", "UTC", "cron")] // 30 February: never
    [InlineData("* * * * * *", "UTC", "cron")] // every second: more often than the minimum interval
    [InlineData("0 2 * * *", "Mars/Olympus_Mons", "timezone")]
    [InlineData("0 2 * * *", "", "timezone")]
    public void Refused_NamingTheField(string cron, string zone, string field)
    {
        var (times, refusedField, error) = ScheduleTimes.Parse(cron, zone, Minute, Utc(2027, 1, 1, 0, 0));

        Assert.Null(times);
        Assert.Equal(field, refusedField);
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Fact]
    public void TwoFiringsAMinuteApart_OnceAYear_AreTooFrequentForATwoMinuteMinimum()
    {
        Assert.NotNull(ScheduleTimes.Parse("0,1 3 1 1 *", "UTC", Minute, Utc(2027, 6, 1, 0, 0)).Times);
        Assert.Equal("cron", ScheduleTimes.Parse("0,1 3 1 1 *", "UTC", 2 * Minute, Utc(2027, 6, 1, 0, 0)).Field);
    }

    [Fact]
    public void LatestDue_IsTheLastFiringAtOrBeforeNow_CountingThoseItPassedOver()
    {
        var times = Parse("*/5 * * * *", "UTC");

        Assert.Equal((Utc(2027, 1, 1, 10, 25), 5L), times.LatestDue(Utc(2027, 1, 1, 10, 0), Utc(2027, 1, 1, 10, 27)));
        Assert.Equal((Utc(2027, 1, 1, 10, 0), 0L), times.LatestDue(Utc(2027, 1, 1, 10, 0), Utc(2027, 1, 1, 10, 0)));
    }

    private static ScheduleTimes Parse(string cron, string zone) =>
        ScheduleTimes.Parse(cron, zone, Minute, Utc(2027, 1, 1, 0, 0)).Times ?? throw new InvalidOperationException("refused");

    private static List<DateTimeOffset> Firings(ScheduleTimes times, DateTimeOffset from, int count)
    {
        var fired = new List<DateTimeOffset>();
        for (var at = times.NextAfter(from); at is { } next && fired.Count < count; at = times.NextAfter(next))
        {
            fired.Add(next);
        }

        return fired;
    }

    private static DateTimeOffset Utc(int year, int month, int day, int hour, int minute, int second = 0) =>
        new(year, month, day, hour, minute, second, TimeSpan.Zero);
}
