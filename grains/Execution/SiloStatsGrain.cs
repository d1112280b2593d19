using Microsoft.Extensions.Options;

namespace Praison.Orleans.Grains.Execution;

/// <summary>Reports the slots of the silo it runs on, and refuses to speak for any other silo.</summary>
[SiloKeyPlacement]
public sealed class SiloStatsGrain(
    ILocalSiloDetails silo, JobSlots slots, IOptions<JobsOptions> options) : Grain, ISiloStatsGrain
{
    public Task<SiloExecutorStats?> GetAsync()
    {
        if (this.GetPrimaryKeyString() != silo.SiloAddress.ToParsableString())
        {
            DeactivateOnIdle();
            return Task.FromResult<SiloExecutorStats?>(null);
        }

        return Task.FromResult<SiloExecutorStats?>(
            new SiloExecutorStats(slots.Running, slots.MaxConcurrent, options.Value.DefaultTimeoutSeconds));
    }
}
