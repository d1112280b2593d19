using Praison.Orleans.Grains.Execution;

namespace Praison.Orleans.Grains.FlowControl;

/// <summary>
/// What a job waits for before its work runs, in order: a lease of its concurrency key, if it names one
/// (cluster-wide, <see cref="KeyLeases"/>), then a slot of this silo (<see cref="JobSlots"/>). A job
/// waiting for its key holds no slot. The admission returned holds both until disposed.
/// </summary>
public sealed class JobAdmission(JobSlots slots, KeyLeases keys)
{
    private int _waitingForParents;

    /// <summary>Jobs of this silo waiting for the jobs they depend on (<c>depends_on</c>), before they ask for anything here.</summary>
    public int WaitingForParents => Volatile.Read(ref _waitingForParents);

    /// <summary>Counts a job as waiting for its parents until the returned handle is disposed.</summary>
    public IDisposable WaitForParents()
    {
        Interlocked.Increment(ref _waitingForParents);
        return new ParentsWait(this);
    }

    private sealed class ParentsWait(JobAdmission admission) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref admission._waitingForParents);
            }
        }
    }

    /// <summary>
    /// Waits until job <paramref name="jobId"/> of <paramref name="tenant"/> may run;
    /// <paramref name="waiting"/> hears what it waits for as that changes (<see cref="JobWaits"/>).
    /// Throws <see cref="OperationCanceledException"/> if cancelled first, holding nothing.
    /// </summary>
    public async Task<IDisposable> AdmitAsync(
        string tenant, string jobId, JobSpec spec, Action<string?> waiting, CancellationToken cancellationToken)
    {
        IDisposable? key = null;
        if (spec.ConcurrencyKey is { } concurrencyKey)
        {
            waiting(JobWaits.ConcurrencyKey);
            key = await keys.AcquireAsync(tenant, jobId, concurrencyKey, spec.ConcurrencyLimit, spec.Priority, cancellationToken);
        }

        try
        {
            waiting(JobWaits.Slot);
            var slot = await slots.AcquireAsync(tenant, spec.Priority, cancellationToken);
            waiting(null);
            return key is null ? slot : new Both(key, slot);
        }
        catch
        {
            key?.Dispose();
            throw;
        }
    }

    private sealed class Both(IDisposable key, IDisposable slot) : IDisposable
    {
        public void Dispose()
        {
            slot.Dispose();
            key.Dispose();
        }
    }
}

/// <summary>What a queued job waits for, as its status body's <c>waiting</c> names it.</summary>
public static class JobWaits
{
    /// <summary>Its <c>run_at</c>.</summary>
    public const string Time = "run_at";

    /// <summary>The jobs it depends on (<c>depends_on</c>; its status's <c>waiting_for</c> names those still live).</summary>
    public const string DependsOn = "depends_on";

    /// <summary>A lease of its <c>concurrency_key</c> (its limit or throttle).</summary>
    public const string ConcurrencyKey = "concurrency_key";

    /// <summary>An execution slot of its silo.</summary>
    public const string Slot = "slot";
}
