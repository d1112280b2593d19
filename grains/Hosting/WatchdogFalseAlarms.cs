using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Praison.Orleans.Grains.Hosting;

/// <summary>
/// Orleans' watchdog (10.x) may warn at start "Participant check thread has not completed for
/// 04:10:48" — the machine's uptime: its platform thread can read the component check's timestamp
/// before <c>Watchdog.Start</c> has set it, and measures from zero. A stall longer than this process has
/// lived cannot be real, so the logger factory of a silo drops exactly those watchdog warnings (one
/// carrying a duration longer than the process's age) and passes every other, real stalls included.
/// </summary>
public static class WatchdogFalseAlarms
{
    /// <summary>The watchdog's log category.</summary>
    public const string Category = "Orleans.Runtime.Watchdog";

    private static readonly DateTime ProcessStarted = Process.GetCurrentProcess().StartTime.ToUniversalTime();

    /// <summary>Wraps the host's logger factory (registered by then) so the watchdog's impossible stalls are not logged.</summary>
    public static IServiceCollection DropWatchdogFalseAlarms(this IServiceCollection services) =>
        services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(provider => new Factory(new LoggerFactory(
            provider.GetServices<ILoggerProvider>(),
            provider.GetRequiredService<IOptionsMonitor<LoggerFilterOptions>>(),
            provider.GetService<IOptions<LoggerFactoryOptions>>(),
            provider.GetService<IExternalScopeProvider>()))));

    /// <summary>True when <paramref name="state"/> carries a duration longer than this process has run.</summary>
    public static bool IsImpossibleStall<TState>(TState state) =>
        state is IReadOnlyList<KeyValuePair<string, object?>> values
        && values.Any(value => value.Value is TimeSpan duration && duration > DateTime.UtcNow - ProcessStarted);

    /// <summary>A logger factory whose watchdog logger leaves out impossible stalls.</summary>
    public sealed class Factory(ILoggerFactory inner) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) =>
            categoryName == Category ? new Filtered(inner.CreateLogger(categoryName)) : inner.CreateLogger(categoryName);

        public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

        public void Dispose() => inner.Dispose();
    }

    private sealed class Filtered(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel != LogLevel.Warning || !IsImpossibleStall(state))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
