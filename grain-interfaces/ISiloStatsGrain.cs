namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// The executor figures of one silo. Keyed by the silo's address and placed on that silo (the silos'
/// <c>SiloKeyPlacement</c>), so callers can sum the figures of every silo in the cluster.
/// </summary>
[Alias("Praison.ISiloStatsGrain")]
public interface ISiloStatsGrain : IGrainWithStringKey
{
    /// <summary>This silo's figures, or null when the grain is not on the silo its key names.</summary>
    [Alias("Get")]
    Task<SiloExecutorStats?> GetAsync();
}
