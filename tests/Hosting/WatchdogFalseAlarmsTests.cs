using Microsoft.Extensions.Logging;
using Praison.Orleans.Grains.Hosting;

namespace Praison.Orleans.Tests.Hosting;

/// <summary>The watchdog's start-up false alarm (a "stall" as long as the machine's uptime) is dropped; nothing else is.</summary>
public sealed partial class WatchdogFalseAlarmsTests
{
    [Fact]
    public void AStallLongerThanTheProcessHasRun_IsDropped_ARealOneAndOtherCategoriesAreNot()
    {
        var captured = new Captured();
        using var factory = new WatchdogFalseAlarms.Factory(LoggerFactory.Create(logging => logging.AddProvider(captured)));
        var watchdog = factory.CreateLogger(WatchdogFalseAlarms.Category);
        var other = factory.CreateLogger("Praison.Other");

        // Logged as Orleans logs them: source-generated, the duration a structured value.
        LogStall(watchdog, TimeSpan.FromDays(3650));
        LogStall(watchdog, TimeSpan.FromMilliseconds(1));
        LogError(watchdog, TimeSpan.FromDays(3650));
        LogWaited(other, TimeSpan.FromDays(3650));

        Assert.Equal(
            [
                $"{WatchdogFalseAlarms.Category}: Participant check thread has not completed for 00:00:00.0010000",
                $"{WatchdogFalseAlarms.Category}: Platform watchdog internal error after 3650.00:00:00",
                "Praison.Other: Waited 3650.00:00:00",
            ],
            captured.Lines);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Participant check thread has not completed for {Duration}")]
    private static partial void LogStall(ILogger logger, TimeSpan duration);

    [LoggerMessage(Level = LogLevel.Error, Message = "Platform watchdog internal error after {Duration}")]
    private static partial void LogError(ILogger logger, TimeSpan duration);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Waited {Duration}")]
    private static partial void LogWaited(ILogger logger, TimeSpan duration);

    private sealed class Captured : ILoggerProvider
    {
        public List<string> Lines { get; } = [];

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Lines);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, List<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Add($"{category}: {formatter(state, exception)}");
        }
    }
}
