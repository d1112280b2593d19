namespace Praison.Orleans.Gateway.Health;

/// <summary>
/// Asks every active silo through a grain of its own (placed on the silo its key names): the executor
/// figures of its <see cref="ISiloStatsGrain"/>, the concurrency keys its jobs hold.
/// </summary>
internal static partial class ClusterStats
{
    /// <summary>How long the figures may take: a silo that has not answered by then is left out, not awaited.</summary>
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The figures of the silos that answer within <see cref="Budget"/>; a silo being declared dead, or a
    /// cluster that cannot be reached at all, costs at most that long and leaves its figures out.
    /// </summary>
    public static Task<IReadOnlyList<SiloExecutorStats>> ReadSilosAsync(IGrainFactory grains, ILogger logger) =>
        AskEverySiloAsync(grains, silo => grains.GetGrain<ISiloStatsGrain>(silo.ToParsableString()).GetAsync(), logger);

    /// <summary>
    /// What every active silo answers to <paramref name="ask"/> (a call of a grain placed on the silo its key
    /// names, null when it landed elsewhere), within <see cref="Budget"/>: a silo that has not answered by
    /// then is left out, not awaited.
    /// </summary>
    public static async Task<IReadOnlyList<T>> AskEverySiloAsync<T>(IGrainFactory grains, Func<SiloAddress, Task<T?>> ask, ILogger logger)
        where T : class
    {
        using var budget = new CancellationTokenSource(Budget);
        try
        {
            var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(budget.Token);
            var answers = await Task.WhenAll(hosts.Keys.Select(silo => AskSiloAsync(silo, ask, logger, budget.Token)));
            return answers.OfType<T>().ToList();
        }
        catch (Exception exception)
        {
            LogClusterUnreachable(logger, exception);
            return [];
        }
    }

    private static async Task<T?> AskSiloAsync<T>(SiloAddress silo, Func<SiloAddress, Task<T?>> ask, ILogger logger, CancellationToken budget)
        where T : class
    {
        try
        {
            var answer = await ask(silo).WaitAsync(budget);
            if (answer is null)
            {
                LogSiloAnsweredFromElsewhere(logger, silo.ToString());
            }

            return answer;
        }
        catch (Exception exception)
        {
            LogSiloSkipped(logger, exception, silo.ToString());
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Silo {Silo} did not answer in time; left out")]
    private static partial void LogSiloSkipped(ILogger logger, Exception exception, string silo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Silo {Silo} was asked through another silo (the asking silo's membership view does not have it active yet); left out")]
    private static partial void LogSiloAnsweredFromElsewhere(ILogger logger, string silo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The cluster's silos could not be listed in time")]
    private static partial void LogClusterUnreachable(ILogger logger, Exception exception);
}
