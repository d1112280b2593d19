using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace Praison.Orleans.Gateway.Health;

/// <summary>Reads the executor figures of every active silo from its own <see cref="ISiloStatsGrain"/>.</summary>
internal static class ClusterStats
{
    public static async Task<IReadOnlyList<SiloExecutorStats>> ReadSilosAsync(IGrainFactory grains)
    {
        var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        var stats = await Task.WhenAll(hosts.Keys.Select(silo => ReadSiloAsync(grains, silo)));
        return stats.OfType<SiloExecutorStats>().ToList();
    }

    private static Task<SiloExecutorStats?> ReadSiloAsync(IGrainFactory grains, SiloAddress silo)
    {
        // The hint places the grain on the silo it reports on; the grain checks that it landed there.
        RequestContext.Set(IPlacementDirector.PlacementHintKey, silo);
        try
        {
            return grains.GetGrain<ISiloStatsGrain>(silo.ToParsableString()).GetAsync();
        }
        finally
        {
            RequestContext.Remove(IPlacementDirector.PlacementHintKey);
        }
    }
}
