namespace Praison.Orleans.Gateway.Health;

/// <summary>Reads the executor figures of every active silo from its own <see cref="ISiloStatsGrain"/>.</summary>
internal static partial class ClusterStats
{
    /// <summary>How long the figures may take: a silo that has not answered by then is left out, not awaited.</summary>
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The figures of the silos that answer within <see cref="Budget"/>; a silo being declared dead, or a
    /// cluster that cannot be reached at all, costs at most that long and leaves its figures out.
    /// </summary>
    public static async Task<IReadOnlyList<SiloExecutorStats>> ReadSilosAsync(IGrainFactory grains, ILogger logger)
    {
        using var budget = new CancellationTokenSource(Budget);
        try
        {
            var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(budget.Token);
            var stats = await Task.WhenAll(hosts.Keys.Select(silo => ReadSiloAsync(grains, silo, logger, budget.Token)));
            return stats.OfType<SiloExecutorStats>().ToList();
        }
        catch (Exception exception)
        {
            LogClusterUnreachable(logger, exception);
            return [];
        }
    }

    private static async Task<SiloExecutorStats?> ReadSiloAsync(
        IGrainFactory grains, SiloAddress silo, ILogger logger, CancellationToken budget)
    {
        try
        {
            var stats = await AskSilo(grains, silo).WaitAsync(budget);
            if (stats is null)
            {
                LogSiloAnsweredFromElsewhere(logger, silo.ToString());
            }

            return stats;
        }
        catch (Exception exception)
        {
            LogSiloSkipped(logger, exception, silo.ToString());
            return null;
        }
    }

    /// <summary>The silo's own stats grain: its placement puts it on the silo its key names, and it checks that it landed there.</summary>
    private static Task<SiloExecutorStats?> AskSilo(IGrainFactory grains, SiloAddress silo) =>
        grains.GetGrain<ISiloStatsGrain>(silo.ToParsableString()).GetAsync();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Silo {Silo} gave no figures in time; left out")]
    private static partial void LogSiloSkipped(ILogger logger, Exception exception, string silo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Silo {Silo}'s figures were asked of another silo (the asking silo's membership view does not have it active yet); left out")]
    private static partial void LogSiloAnsweredFromElsewhere(ILogger logger, string silo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The cluster's silos could not be listed in time")]
    private static partial void LogClusterUnreachable(ILogger logger, Exception exception);
}
