using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Praison.Orleans.Grains.FlowControl;

/// <summary>
/// Counts the leases of one concurrency key across the cluster (<see cref="IConcurrencyKeyGrain"/>).
/// Jobs waiting form one line, highest priority first, first come first served within a priority (by
/// when each asked); the
/// head is granted a lease while fewer than its limit hold one and, for a throttled key, while fewer
/// than its starts were granted within its period (plus <see cref="FlowControlOptions.ThrottleMargin"/>).
/// Its counts live in memory: a new activation first asks every active silo what its jobs hold and
/// wait for, and while jobs wait it takes back the leases of silos membership has declared dead.
/// </summary>
public sealed partial class ConcurrencyKeyGrain(
    IGrainFactory grains, IClusterMembershipService membership, IOptions<FlowControlOptions> options, TimeProvider time,
    ILogger<ConcurrencyKeyGrain> logger) : Grain, IConcurrencyKeyGrain
{
    private static readonly TimeSpan FirstNotifyRetry = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan LongestNotifyRetry = TimeSpan.FromSeconds(5);

    private readonly Dictionary<string, Holder> _held = new(StringComparer.Ordinal); // by job id
    private readonly Dictionary<string, Waiter> _waiters = new(StringComparer.Ordinal); // by job id
    private readonly SortedSet<Waiter> _line = new(Waiter.Order);
    private readonly List<DateTimeOffset> _starts = []; // grant times, oldest first, within the longest period seen
    private readonly Dictionary<string, SiloAddress?> _silos = new(StringComparer.Ordinal);
    private TimeSpan _longestPeriod;
    private long _arrivals;
    private IGrainTimer? _deadSiloCheck;
    private IGrainTimer? _throttleWake;

    private string Key => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var silos = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToList();
        var reports = (await Task.WhenAll(silos.Select(ReportOfAsync))).OfType<KeyLeaseReport>().ToList();
        foreach (var held in reports.SelectMany(r => r.Held).OrderBy(h => h.GrantedAt))
        {
            _held[held.Request.JobId] = new Holder(held.Request, held.GrantedAt);
            RecordStart(held.GrantedAt, held.Request.Limits); // oldest first, as the starts are kept
        }

        foreach (var waiting in reports.SelectMany(r => r.Waiting).OrderBy(w => w.AskedAt)) // the line as it was, across silos
        {
            Enqueue(waiting);
        }

        Dispatch(answering: null);
    }

    /// <summary>What the jobs of <paramref name="silo"/> hold and wait for of this key; null when it does not say in time.</summary>
    private async Task<KeyLeaseReport?> ReportOfAsync(SiloAddress silo)
    {
        try
        {
            return await grains.ByKey<IKeyLeaseAgentGrain>(silo.ToParsableString()).GetLeasesAsync(Key)
                .WaitAsync(options.Value.LeaseReportTimeout);
        }
        catch (Exception exception)
        {
            LogNoReport(logger, exception, Key, silo);
            return null;
        }
    }

    public Task<bool> AcquireAsync(KeyLeaseRequest request)
    {
        if (_held.TryGetValue(request.JobId, out var holder))
        {
            // The job asks again (resumed on another silo, or it missed the answer): still one lease, now under its new id.
            _held[request.JobId] = holder with { Request = request };
            return Task.FromResult(true);
        }

        Enqueue(request);
        Dispatch(answering: request.JobId);
        return Task.FromResult(_held.ContainsKey(request.JobId));
    }

    public Task ReleaseAsync(string jobId, string leaseId)
    {
        if (_held.TryGetValue(jobId, out var holder) && holder.Request.LeaseId == leaseId)
        {
            _held.Remove(jobId);
        }
        else if (_waiters.TryGetValue(jobId, out var waiter) && waiter.Request.LeaseId == leaseId)
        {
            Dequeue(waiter);
        }

        Dispatch(answering: null);
        return Task.CompletedTask;
    }

    public Task<KeyLeaseCounts> GetCountsAsync() =>
        Task.FromResult(new KeyLeaseCounts(_held.Count, _waiters.Count));

    /// <summary>Puts the request in line; a job already in line keeps its place under its new request.</summary>
    private void Enqueue(KeyLeaseRequest request)
    {
        var arrival = ++_arrivals;
        if (_waiters.Remove(request.JobId, out var earlier))
        {
            _line.Remove(earlier);
            (arrival, request) = (earlier.Arrival, request with { AskedAt = earlier.Request.AskedAt });
        }

        var waiter = new Waiter(request, arrival);
        _waiters[request.JobId] = waiter;
        _line.Add(waiter);
    }

    private void Dequeue(Waiter waiter)
    {
        _waiters.Remove(waiter.Request.JobId);
        _line.Remove(waiter);
    }

    /// <summary>
    /// Grants leases from the head of the line while its limits allow, and tells each granted job's silo
    /// (not <paramref name="answering"/>'s: its answer says so). Keeps the checks a waiting line needs.
    /// </summary>
    private void Dispatch(string? answering)
    {
        var now = time.GetUtcNow();
        while (_line.Min is { } head)
        {
            var limits = head.Request.Limits;
            if (_held.Count >= limits.Concurrency)
            {
                break;
            }

            if (limits.Throttled && StartsWithin(limits.Period + options.Value.ThrottleMargin, now) >= limits.Starts)
            {
                WakeWhenAStartLeaves(limits, now);
                break;
            }

            Dequeue(head);
            _held[head.Request.JobId] = new Holder(head.Request, now);
            RecordStart(now, limits);
            if (head.Request.JobId != answering)
            {
                _ = NotifyAsync(head.Request);
            }
        }

        KeepDeadSiloCheck(_line.Count > 0);
    }

    /// <summary>
    /// Tells the granted job's silo, until it hears, the lease is taken back (its silo declared dead) or
    /// the job holds it under another id. Runs on the activation, between its requests.
    /// </summary>
    private async Task NotifyAsync(KeyLeaseRequest request)
    {
        var delay = FirstNotifyRetry;
        while (true)
        {
            try
            {
                if (await grains.ByKey<IKeyLeaseAgentGrain>(request.Silo).GrantedAsync(Key, request.JobId, request.LeaseId))
                {
                    return;
                }
            }
            catch (Exception exception)
            {
                LogNotifyFailed(logger, exception.GetType().Name, Key, request.JobId);
            }

            if (!_held.TryGetValue(request.JobId, out var holder) || holder.Request.LeaseId != request.LeaseId)
            {
                return;
            }

            if (IsDead(request.Silo))
            {
                _held.Remove(request.JobId);
                Dispatch(answering: null);
                return;
            }

            await Task.Delay(delay, time);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestNotifyRetry.Ticks));
        }
    }

    /// <summary>
    /// While jobs wait, takes back every so often the leases of silos declared dead (their jobs resume
    /// elsewhere and ask again), and stays active for it: a job that dies with its silo and never asks
    /// again (its attempts spent) would otherwise leave its waiters to an activation nobody calls.
    /// </summary>
    private void KeepDeadSiloCheck(bool needed)
    {
        if (needed && _deadSiloCheck is null)
        {
            var period = options.Value.DeadSiloCheckPeriod;
            _deadSiloCheck = this.RegisterGrainTimer(_ => TakeBackFromDeadSilos(), new GrainTimerCreationOptions(period, period) { KeepAlive = true });
        }
        else if (!needed && _deadSiloCheck is not null)
        {
            _deadSiloCheck.Dispose();
            _deadSiloCheck = null;
        }
    }

    private Task TakeBackFromDeadSilos()
    {
        foreach (var dead in _held.Values.Where(h => IsDead(h.Request.Silo)).ToList())
        {
            LogTakenBack(logger, Key, dead.Request.JobId, dead.Request.Silo);
            _held.Remove(dead.Request.JobId);
        }

        foreach (var dead in _waiters.Values.Where(w => IsDead(w.Request.Silo)).ToList())
        {
            Dequeue(dead);
        }

        Dispatch(answering: null);
        return Task.CompletedTask;
    }

    private bool IsDead(string silo)
    {
        if (!_silos.TryGetValue(silo, out var address))
        {
            try
            {
                address = SiloAddress.FromParsableString(silo);
            }
            catch (FormatException)
            {
                address = null;
            }

            _silos[silo] = address;
        }

        return address is null || membership.CurrentSnapshot.GetSiloStatus(address) == SiloStatus.Dead;
    }

    private void RecordStart(DateTimeOffset at, KeyLimits limits)
    {
        if (!limits.Throttled && _longestPeriod == TimeSpan.Zero)
        {
            return;
        }

        if (limits.Period > _longestPeriod)
        {
            _longestPeriod = limits.Period;
        }

        _starts.Add(at);
        var keepFrom = at - _longestPeriod - options.Value.ThrottleMargin;
        var stale = _starts.FindIndex(s => s > keepFrom);
        _starts.RemoveRange(0, stale < 0 ? _starts.Count : stale);
    }

    /// <summary>Leases granted after <paramref name="now"/> less <paramref name="period"/>.</summary>
    private int StartsWithin(TimeSpan period, DateTimeOffset now) => _starts.Count - FirstAfter(now - period);

    private int FirstAfter(DateTimeOffset instant)
    {
        var (low, high) = (0, _starts.Count);
        while (low < high)
        {
            var middle = (low + high) / 2;
            (low, high) = _starts[middle] > instant ? (low, middle) : (middle + 1, high);
        }

        return low;
    }

    /// <summary>Dispatches again when the oldest start within the throttle's window leaves it.</summary>
    private void WakeWhenAStartLeaves(KeyLimits limits, DateTimeOffset now)
    {
        var window = limits.Period + options.Value.ThrottleMargin;
        var oldest = _starts[FirstAfter(now - window)];
        var due = oldest + window - now + TimeSpan.FromMilliseconds(1);
        _throttleWake?.Dispose();
        _throttleWake = this.RegisterGrainTimer(
            _ =>
            {
                _throttleWake?.Dispose();
                _throttleWake = null;
                Dispatch(answering: null);
                return Task.CompletedTask;
            },
            new GrainTimerCreationOptions(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Concurrency key {Key}: silo {Silo} did not say what its jobs hold; leases it holds are not counted")]
    private static partial void LogNoReport(ILogger logger, Exception exception, string key, SiloAddress silo);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Concurrency key {Key}: could not tell job {JobId}'s silo of its lease ({Error}); trying again")]
    private static partial void LogNotifyFailed(ILogger logger, string error, string key, string jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Concurrency key {Key}: took back job {JobId}'s lease, its silo {Silo} was declared dead")]
    private static partial void LogTakenBack(ILogger logger, string key, string jobId, string silo);

    private sealed record Holder(KeyLeaseRequest Request, DateTimeOffset GrantedAt);

    private sealed record Waiter(KeyLeaseRequest Request, long Arrival)
    {
        /// <summary>
        /// Highest priority first, then first come first served: by when the job asked (its silo's clock;
        /// asks from several silos may arrive out of that order), then by arrival here.
        /// </summary>
        public static readonly IComparer<Waiter> Order = Comparer<Waiter>.Create((a, b) =>
            a.Request.Priority != b.Request.Priority ? b.Request.Priority.CompareTo(a.Request.Priority)
            : a.Request.AskedAt != b.Request.AskedAt ? a.Request.AskedAt.CompareTo(b.Request.AskedAt)
            : a.Arrival.CompareTo(b.Arrival));
    }
}
