using Microsoft.Extensions.Options;

namespace Praison.Orleans.Grains.Execution;

/// <summary>
/// This silo's execution slots: at most <see cref="JobsOptions.MaxConcurrent"/> jobs run at once.
/// The rest wait in one line per tenant — higher <see cref="JobSpec.Priority"/> first, first in, first
/// out within a priority — and a freed slot goes to the waiting tenant that runs the fewest jobs (in
/// turn among equals): a tenant that queued a thousand long
/// jobs delays another tenant's job by one freed slot, not by a thousand jobs. With <see cref="JobsOptions.MaxRunningPerTenant"/>,
/// a tenant never holds more slots than that; once the silo serves more than one tenant, none holds the
/// last <see cref="JobsOptions.ReservedSlots"/>, so another tenant's job starts at once however long the
/// jobs holding the rest run. A lease is held while a job's work runs. A waiter whose
/// wait is cancelled (its job cancelled, deleted or handed over) leaves its line at once.
/// </summary>
public sealed class JobSlots(IOptions<JobsOptions> options)
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Line> _waiting = new(StringComparer.Ordinal);
    private readonly LinkedList<string> _turns = new(); // tenants with waiting jobs, next turn first
    private readonly Dictionary<string, int> _runningByTenant = new(StringComparer.Ordinal);
    private int _running;
    private string? _firstTenant;

    public int MaxConcurrent { get; } = options.Value.MaxConcurrent;

    private int MaxPerTenant { get; } = options.Value.MaxRunningPerTenant is > 0 and var cap ? cap : int.MaxValue;

    /// <summary>The most slots one tenant holds once the silo serves more than one tenant.</summary>
    private int MaxPerTenantAmongOthers => Math.Min(MaxPerTenant, MaxConcurrent - options.Value.ReservedSlotsOrDefault);

    /// <summary>True once the silo serves more than one tenant: from the start when the deployment names several.</summary>
    private bool _servesSeveral = options.Value.ConfiguredTenants >= 2;

    /// <summary>The most slots a tenant may hold now; the caller holds the gate.</summary>
    private int Cap => _servesSeveral ? MaxPerTenantAmongOthers : MaxPerTenant;

    /// <summary>Jobs holding a slot right now.</summary>
    public int Running
    {
        get
        {
            lock (_gate)
            {
                return _running;
            }
        }
    }

    /// <summary>Jobs waiting for a slot right now.</summary>
    public int Waiting
    {
        get
        {
            lock (_gate)
            {
                return _waitingCount;
            }
        }
    }

    private int _waitingCount;

    /// <summary>
    /// Waits for a slot for a job of <paramref name="tenant"/> at <paramref name="priority"/>; throws
    /// <see cref="OperationCanceledException"/> if cancelled first. Dispose the lease when the job's work has stopped.
    /// </summary>
    public ValueTask<IDisposable> AcquireAsync(string tenant, int priority, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Waiter waiter;
        lock (_gate)
        {
            NoteTenant(tenant);
            if (_running < MaxConcurrent && RunningOf(tenant) < Cap && !_waiting.ContainsKey(tenant))
            {
                return ValueTask.FromResult<IDisposable>(Grant(tenant));
            }

            waiter = new Waiter(this, tenant);
            if (!_waiting.TryGetValue(tenant, out var line))
            {
                _waiting[tenant] = line = new Line();
                _turns.AddLast(tenant);
            }

            waiter.Place = line.Add(priority, waiter);
            _waitingCount++;
        }

        waiter.Cancellation = cancellationToken.Register(static state => ((Waiter)state!).Leave(), waiter);
        return new ValueTask<IDisposable>(waiter.Lease.Task);
    }

    /// <summary>A waiter's wait was cancelled: it leaves its line (unless a slot was handed to it first).</summary>
    private void Leave(Waiter waiter)
    {
        lock (_gate)
        {
            if (!waiter.Lease.TrySetCanceled())
            {
                return; // granted just before: its lease is its holder's to dispose
            }

            Remove(waiter);
        }
    }

    /// <summary>Takes <paramref name="waiter"/> out of its line; the caller holds the gate.</summary>
    private void Remove(Waiter waiter)
    {
        if (waiter.Place is not { List: not null } place)
        {
            return;
        }

        var line = _waiting[waiter.Tenant];
        line.Remove(place);
        _waitingCount--;
        if (line.IsEmpty)
        {
            _waiting.Remove(waiter.Tenant);
            _turns.Remove(waiter.Tenant);
        }
    }

    /// <summary>Notes the tenant of a job asking for a slot: a second one makes the reserve hold. The caller holds the gate.</summary>
    private void NoteTenant(string tenant)
    {
        if (!_servesSeveral && !string.Equals(_firstTenant ??= tenant, tenant, StringComparison.Ordinal))
        {
            _servesSeveral = true;
        }
    }

    private int RunningOf(string tenant) => _runningByTenant.GetValueOrDefault(tenant);

    /// <summary>Takes a slot for <paramref name="tenant"/>; the caller holds the gate.</summary>
    private Lease Grant(string tenant)
    {
        _running++;
        _runningByTenant[tenant] = RunningOf(tenant) + 1;
        return new Lease(this, tenant);
    }

    private void Release(string tenant)
    {
        lock (_gate)
        {
            Undo(tenant);
            Dispatch();
        }
    }

    /// <summary>
    /// Hands free slots to waiting jobs: each to the waiting tenant running the fewest jobs (under its
    /// cap), the earliest in turn among equals; that tenant's first job in its line (the oldest of its
    /// highest priority) gets it, and the tenant goes to the back of the turns. The caller holds the gate.
    /// </summary>
    private void Dispatch()
    {
        while (_running < MaxConcurrent && NextInTurn() is { } turn)
        {
            var tenant = turn.Value;
            _turns.Remove(turn);
            var line = _waiting[tenant];
            var waiter = line.TakeFirst(); // a line is removed with its last waiter
            _waitingCount--;
            if (line.IsEmpty)
            {
                _waiting.Remove(tenant);
            }
            else
            {
                _turns.AddLast(tenant);
            }

            waiter.Lease.SetResult(Grant(tenant)); // a cancelled waiter left its line under the gate: this one is waiting
            // Unregister, not Dispose: Dispose waits for a callback already running, and that callback
            // (Leave) waits for the gate held here. One that runs all the same finds the lease granted.
            waiter.Cancellation.Unregister();
        }
    }

    private LinkedListNode<string>? NextInTurn()
    {
        LinkedListNode<string>? next = null;
        var cap = Cap;
        for (var node = _turns.First; node is not null; node = node.Next)
        {
            var running = RunningOf(node.Value);
            if (running < cap && (next is null || running < RunningOf(next.Value)))
            {
                next = node;
            }
        }

        return next;
    }

    /// <summary>Gives back a slot taken by <see cref="Grant"/>; the caller holds the gate.</summary>
    private void Undo(string tenant)
    {
        _running--;
        if (--_runningByTenant[tenant] == 0)
        {
            _runningByTenant.Remove(tenant);
        }
    }

    /// <summary>
    /// One tenant's waiting jobs: a first-in, first-out list per priority, highest priority first. Adding,
    /// taking the first and removing a waiter cost O(log priorities in use), however many wait.
    /// </summary>
    private sealed class Line
    {
        private readonly SortedDictionary<int, LinkedList<Waiter>> _byPriority = new(Comparer<int>.Create((a, b) => b.CompareTo(a)));

        public bool IsEmpty => _byPriority.Count == 0;

        public LinkedListNode<Waiter> Add(int priority, Waiter waiter)
        {
            if (!_byPriority.TryGetValue(priority, out var list))
            {
                _byPriority[priority] = list = new LinkedList<Waiter>();
            }

            waiter.Priority = priority;
            return list.AddLast(waiter);
        }

        public Waiter TakeFirst()
        {
            var (priority, list) = _byPriority.First();
            var waiter = list.First!.Value;
            list.RemoveFirst(); // detaches its place: a later Remove of it does nothing
            if (list.Count == 0)
            {
                _byPriority.Remove(priority);
            }

            return waiter;
        }

        public void Remove(LinkedListNode<Waiter> place)
        {
            var priority = place.Value.Priority;
            var list = place.List!;
            list.Remove(place);
            if (list.Count == 0)
            {
                _byPriority.Remove(priority);
            }
        }
    }

    private sealed class Waiter(JobSlots slots, string tenant)
    {
        public string Tenant { get; } = tenant;

        public TaskCompletionSource<IDisposable> Lease { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Its place in its tenant's line; detached once it leaves the line.</summary>
        public LinkedListNode<Waiter>? Place { get; set; }

        /// <summary>The priority it waits at (its list in the line).</summary>
        public int Priority { get; set; }

        public CancellationTokenRegistration Cancellation { get; set; }

        public void Leave() => slots.Leave(this);
    }

    private sealed class Lease(JobSlots slots, string tenant) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                slots.Release(tenant);
            }
        }
    }
}
