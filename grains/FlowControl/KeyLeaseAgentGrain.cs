using Praison.Orleans.Grains.Execution;

namespace Praison.Orleans.Grains.FlowControl;

/// <summary>
/// A silo's door for its key leases (<see cref="KeyLeases"/>): placed on the silo its key names, and
/// refusing to speak for any other. Reentrant: it only hands calls to the silo's leases, which never
/// wait on a key grain while answering.
/// </summary>
[SiloKeyPlacement, Reentrant]
public sealed class KeyLeaseAgentGrain(ILocalSiloDetails silo, KeyLeases leases) : Grain, IKeyLeaseAgentGrain
{
    private bool OnItsSilo
    {
        get
        {
            if (this.GetPrimaryKeyString() == silo.SiloAddress.ToParsableString())
            {
                return true;
            }

            DeactivateOnIdle();
            return false;
        }
    }

    public Task<bool> GrantedAsync(string key, string jobId, string leaseId)
    {
        if (!OnItsSilo)
        {
            return Task.FromResult(false);
        }

        leases.Granted(key, jobId, leaseId);
        return Task.FromResult(true);
    }

    public Task<KeyLeaseReport?> GetLeasesAsync(string key) =>
        Task.FromResult(OnItsSilo ? leases.Report(key) : null);

    public Task<IReadOnlyList<KeyTally>?> GetKeysAsync(string tenant) =>
        Task.FromResult(OnItsSilo ? leases.Tallies(tenant) : null);
}
