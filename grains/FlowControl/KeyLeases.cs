using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Praison.Orleans.Grains.FlowControl;

/// <summary>
/// This silo's side of concurrency keys: a job naming a key asks its <see cref="IConcurrencyKeyGrain"/>
/// for a lease and, when none is free, waits here — holding no execution slot — until the key grain
/// grants it through this silo's <see cref="KeyLeaseAgentGrain"/>. Disposing the lease gives it back.
/// Every lease the silo's jobs hold or wait for is known here, for a new key activation to ask.
/// </summary>
public sealed partial class KeyLeases(
    IGrainFactory grains, ILocalSiloDetails silo, IOptions<FlowControlOptions> options, TimeProvider time, ILogger<KeyLeases> logger)
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(5);

    private readonly object _gate = new();
    private readonly Dictionary<(string Key, string JobId), Entry> _entries = [];
    private long _leases;
    private int _waiting;

    private string Silo { get; } = silo.SiloAddress.ToParsableString();

    /// <summary>Jobs of this silo waiting for a key's lease right now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Key leases this silo's jobs hold right now.</summary>
    public int Held
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count - _waiting;
            }
        }
    }

    /// <summary>
    /// Waits until job <paramref name="jobId"/> of <paramref name="tenant"/> holds a lease of
    /// <paramref name="key"/> under the limits configured for it (lowered to <paramref name="submittedLimit"/>);
    /// throws <see cref="OperationCanceledException"/> if cancelled first. Dispose the lease when the job's work has stopped.
    /// </summary>
    public async Task<IDisposable> AcquireAsync(
        string tenant, string jobId, string key, int submittedLimit, int priority, CancellationToken cancellationToken)
    {
        var grainKey = JobKeys.ForConcurrencyKey(tenant, key);
        var request = new KeyLeaseRequest(
            jobId, $"{Silo}#{Interlocked.Increment(ref _leases)}", Silo, priority, options.Value.LimitsFor(tenant, key, submittedLimit), time.GetUtcNow());
        var entry = new Entry(this, grainKey, request);
        lock (_gate)
        {
            _entries[(grainKey, jobId)] = entry; // replaces a lease of an earlier attempt still being given back
            _waiting++;
        }

        var keyGrain = grains.ByKey<IConcurrencyKeyGrain>(grainKey);
        try
        {
            if (await UntilAnsweredAsync(() => keyGrain.AcquireAsync(request), cancellationToken))
            {
                Grant(entry);
            }

            using (cancellationToken.Register(static e => ((Entry)e!).Lease.TrySetCanceled(), entry))
            {
                return await entry.Lease.Task;
            }
        }
        catch
        {
            GiveBack(entry);
            throw;
        }
    }

    /// <summary>
    /// The key grain granted lease <paramref name="leaseId"/> (through the agent): the job waiting for it
    /// starts; a job that no longer waits for it gives it back.
    /// </summary>
    internal void Granted(string key, string jobId, string leaseId)
    {
        Entry? entry;
        lock (_gate)
        {
            _entries.TryGetValue((key, jobId), out entry);
        }

        if (entry is null || entry.Request.LeaseId != leaseId)
        {
            ReleaseInBackground(key, jobId, leaseId); // its job stopped waiting: the key takes it back
        }
        else
        {
            Grant(entry); // or it is being given back: GiveBack tells the key
        }
    }

    /// <summary>What this silo's jobs hold and wait for of <paramref name="key"/>, for a new key activation.</summary>
    internal KeyLeaseReport Report(string key)
    {
        lock (_gate)
        {
            var ofKey = _entries.Values.Where(e => e.Key == key).ToList();
            return new KeyLeaseReport(
                ofKey.Where(e => e.GrantedAt is not null).Select(e => new HeldKeyLease(e.Request, e.GrantedAt!.Value)).ToList(),
                ofKey.Where(e => e.GrantedAt is null).Select(e => e.Request).ToList());
        }
    }

    /// <summary>The keys of <paramref name="tenant"/> this silo's jobs hold or wait for, by key.</summary>
    internal IReadOnlyList<KeyTally> Tallies(string tenant)
    {
        var prefix = JobKeys.ForConcurrencyKey(tenant, "");
        lock (_gate)
        {
            return _entries.Values
                .Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal))
                .GroupBy(e => e.Key, StringComparer.Ordinal)
                .Select(g => new KeyTally(
                    g.Key[prefix.Length..], g.Count(e => e.GrantedAt is not null), g.Count(e => e.GrantedAt is null), g.First().Request.Limits))
                .ToList();
        }
    }

    /// <summary>Hands the lease to the job waiting for it; false when it no longer waits (it is being given back).</summary>
    private bool Grant(Entry entry)
    {
        lock (_gate)
        {
            if (entry.GrantedAt is not null)
            {
                return true; // granted twice: an answer and an agent's call
            }

            if (entry.Returned || !entry.Lease.TrySetResult(entry)) // continuations run asynchronously: not under the gate
            {
                return false;
            }

            entry.GrantedAt = time.GetUtcNow();
            _waiting--;
            return true;
        }
    }

    /// <summary>The entry's lease, held or waited for, goes back to its key (once).</summary>
    private void GiveBack(Entry entry)
    {
        lock (_gate)
        {
            if (entry.Returned)
            {
                return;
            }

            entry.Returned = true;
            if (entry.GrantedAt is null)
            {
                _waiting--;
            }

            if (_entries.TryGetValue((entry.Key, entry.Request.JobId), out var current) && current == entry)
            {
                _entries.Remove((entry.Key, entry.Request.JobId));
            }
        }

        ReleaseInBackground(entry.Key, entry.Request.JobId, entry.Request.LeaseId);
    }

    /// <summary>
    /// Tells the key grain a lease is back, retried until it hears (a key activation lost meanwhile asks
    /// this silo, which no longer names the lease, so it is back all the same).
    /// </summary>
    private void ReleaseInBackground(string key, string jobId, string leaseId) =>
        _ = Task.Run(async () =>
        {
            try
            {
                await UntilAnsweredAsync(async () =>
                {
                    await grains.ByKey<IConcurrencyKeyGrain>(key).ReleaseAsync(jobId, leaseId);
                    return true;
                }, CancellationToken.None, attempts: 10);
            }
            catch (Exception exception)
            {
                LogReleaseFailed(logger, exception, key, jobId);
            }
        });

    /// <summary>
    /// A key grain call, tried again after a failure (a silo lost, a timeout) until it answers or
    /// <paramref name="cancellationToken"/> fires between tries. A call in flight is waited for, not
    /// abandoned: a lease given back after its ask has been answered cannot be granted behind the release.
    /// </summary>
    private async Task<bool> UntilAnsweredAsync(Func<Task<bool>> call, CancellationToken cancellationToken, int attempts = int.MaxValue)
    {
        var delay = FirstRetry;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (Exception exception) when (exception is not OperationCanceledException && attempt < attempts)
            {
                LogKeyCallRetry(logger, exception.GetType().Name, delay);
                await Task.Delay(delay, time, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestRetry.Ticks));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A concurrency key did not answer ({Error}); trying again in {Delay}")]
    private static partial void LogKeyCallRetry(ILogger logger, string error, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not give back the lease of key {Key} held by job {JobId}; a new activation of the key will not count it")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, string key, string jobId);

    /// <summary>A lease a job of this silo holds (granted) or waits for.</summary>
    private sealed class Entry(KeyLeases leases, string key, KeyLeaseRequest request) : IDisposable
    {
        public string Key { get; } = key;

        public KeyLeaseRequest Request { get; } = request;

        public TaskCompletionSource<IDisposable> Lease { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>When the key granted it; null while it waits. Read and written under the gate.</summary>
        public DateTimeOffset? GrantedAt { get; set; }

        /// <summary>Given back (under the gate): once only.</summary>
        public bool Returned { get; set; }

        public void Dispose() => leases.GiveBack(this);
    }
}
