using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace Praison.Orleans.Grains.Execution;

/// <summary>
/// Places a grain whose key is a silo's address (<see cref="SiloStatsGrain"/>) on that silo. A placement
/// hint is not enough for this: every placement director honours a hint only among the silos it counts
/// as compatible with the grain type, and a silo's view of that can lag its view of membership. Seen
/// here: two of three silos that joined in contention were Active for minutes, and their stats grains
/// kept landing on the third silo, so <c>/health</c> counted one silo.
/// </summary>
[GenerateSerializer, Alias("Praison.SiloKeyPlacement")]
public sealed class SiloKeyPlacement : PlacementStrategy
{
    internal static SiloKeyPlacement Instance { get; } = new();
}

/// <summary>Places the grain on the silo its key names (<see cref="SiloKeyPlacement"/>).</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class SiloKeyPlacementAttribute() : PlacementAttribute(SiloKeyPlacement.Instance);

/// <summary>
/// The silo a grain's key names, when this silo's membership view has it active; otherwise this silo
/// (where the grain, keyed for another, answers that it cannot speak for it).
/// </summary>
internal sealed class SiloKeyPlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var named = SiloNamedBy(target.GrainIdentity.Key.ToString());
        var active = named is not null && membership.CurrentSnapshot.GetSiloStatus(named) == SiloStatus.Active;
        return Task.FromResult(active ? named! : context.LocalSilo);
    }

    private static SiloAddress? SiloNamedBy(string? key)
    {
        try
        {
            return key is null ? null : SiloAddress.FromParsableString(key);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
