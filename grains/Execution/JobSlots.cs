using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Praison.Orleans.Grains.Execution;

/// <summary>
/// This silo's execution slots: at most <see cref="JobExecutionOptions.MaxConcurrent"/> jobs run at
/// once; the rest wait first in, first out. A lease is held while a job's work runs.
/// </summary>
public sealed class JobSlots : IDisposable
{
    private readonly ConcurrencyLimiter _limiter;

    public JobSlots(IOptions<JobExecutionOptions> options)
    {
        MaxConcurrent = options.Value.MaxConcurrent;
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = MaxConcurrent,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    public int MaxConcurrent { get; }

    /// <summary>Jobs holding a slot right now.</summary>
    public int Running => MaxConcurrent - (int)(_limiter.GetStatistics()?.CurrentAvailablePermits ?? MaxConcurrent);

    /// <summary>Waits in line for a slot; throws <see cref="OperationCanceledException"/> if cancelled first.</summary>
    public async ValueTask<RateLimitLease> AcquireAsync(CancellationToken cancellationToken)
    {
        var lease = await _limiter.AcquireAsync(1, cancellationToken);
        if (!lease.IsAcquired)
        {
            lease.Dispose();
            throw new InvalidOperationException("No execution slot could be queued for.");
        }

        return lease;
    }

    public void Dispose() => _limiter.Dispose();
}
