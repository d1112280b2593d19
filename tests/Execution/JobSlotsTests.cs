using Microsoft.Extensions.Options;
using Praison.Orleans.Grains.Execution;

namespace Praison.Orleans.Tests.Execution;

/// <summary>A silo's slots: shared in turn among tenants with waiting jobs, FIFO within a tenant, capped per tenant.</summary>
public sealed class JobSlotsTests
{
    private static JobSlots Slots(int max, int perTenant = 0, int? reserved = 0, int tenants = 0) =>
        new(Options.Create(new JobsOptions
        {
            MaxConcurrent = max, MaxRunningPerTenant = perTenant, ReservedSlots = reserved, ConfiguredTenants = tenants,
        }));

    [Fact]
    public async Task ASingleTenantSilo_UsesEverySlot_DespiteTheDefaultReserve()
    {
        var slots = Slots(max: 10, reserved: null);
        var leases = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => slots.AcquireAsync("a", 0, default).AsTask()));

        Assert.Equal((10, 0), (slots.Running, slots.Waiting));
        Assert.Equal(10, leases.Distinct().Count());
    }

    [Fact]
    public void WithSeveralTenantsConfigured_OneTenantsJobsLeaveTheReserve_AndAnothersJobStartsAtOnce()
    {
        var slots = Slots(max: 10, reserved: null, tenants: 2);
        var a = Enumerable.Range(0, 10).Select(_ => slots.AcquireAsync("a", 0, default).AsTask()).ToList();

        Assert.Equal(9, a.Count(t => t.IsCompletedSuccessfully)); // a tenth reserved
        Assert.True(slots.AcquireAsync("b", 0, default).AsTask().IsCompletedSuccessfully);
        Assert.Equal((10, 1), (slots.Running, slots.Waiting));
    }

    [Fact]
    public async Task ASecondTenantsFirstJob_MakesTheReserveHold_FromTheNextFreedSlot()
    {
        var slots = Slots(max: 3, reserved: null); // a reserve of 1
        var a = new List<IDisposable>();
        for (var i = 0; i < 3; i++)
        {
            a.Add(await slots.AcquireAsync("a", 0, default)); // alone: every slot
        }

        var a4 = slots.AcquireAsync("a", 0, default).AsTask();
        var b1 = slots.AcquireAsync("b", 0, default).AsTask();
        Assert.False(b1.IsCompleted); // nothing is stopped for it: it waits for a job's end

        a[0].Dispose();
        Assert.True(b1.IsCompletedSuccessfully);
        a[1].Dispose();
        Assert.True(a4.IsCompletedSuccessfully); // a holds 2 of 3
        (await b1).Dispose();

        var a5 = slots.AcquireAsync("a", 0, default).AsTask();
        Assert.False(a5.IsCompleted); // a free slot, kept for another tenant
        Assert.True(slots.AcquireAsync("b", 0, default).AsTask().IsCompletedSuccessfully);
        Assert.Equal((3, 1), (slots.Running, slots.Waiting));
    }

    [Fact]
    public async Task FreedSlot_GoesToTheNextTenantInTurn_NotToTheTenantThatQueuedMost()
    {
        var slots = Slots(max: 2);
        var running = new[] { await slots.AcquireAsync("a", 0, default), await slots.AcquireAsync("a", 0, default) };
        var queuedA = Enumerable.Range(0, 100).Select(_ => slots.AcquireAsync("a", 0, default).AsTask()).ToList();
        var queuedB = slots.AcquireAsync("b", 0, default).AsTask();

        running[0].Dispose();

        Assert.True(queuedB.IsCompletedSuccessfully);
        Assert.All(queuedA, t => Assert.False(t.IsCompleted));
        Assert.Equal(2, slots.Running);
    }

    [Fact]
    public async Task Tenants_TakeTurns_AndEachTenantsJobsRunInOrder()
    {
        var slots = Slots(max: 1);
        var first = await slots.AcquireAsync("a", 0, default);
        var order = new List<string>();
        var waiting = new (string Name, Task<IDisposable> Lease)[]
        {
            ("a1", slots.AcquireAsync("a", 0, default).AsTask()), ("a2", slots.AcquireAsync("a", 0, default).AsTask()),
            ("a3", slots.AcquireAsync("a", 0, default).AsTask()), ("b1", slots.AcquireAsync("b", 0, default).AsTask()),
            ("b2", slots.AcquireAsync("b", 0, default).AsTask()), ("c1", slots.AcquireAsync("c", 0, default).AsTask()),
        };

        var current = first;
        for (var i = 0; i < waiting.Length; i++)
        {
            current.Dispose();
            var (name, lease) = Assert.Single(waiting, w => w.Lease.IsCompletedSuccessfully && !order.Contains(w.Name));
            order.Add(name);
            current = await lease;
        }

        Assert.Equal(["a1", "b1", "c1", "a2", "b2", "a3"], order);
    }

    [Fact]
    public async Task PerTenantCap_KeepsFreeSlotsForOthers()
    {
        var slots = Slots(max: 4, perTenant: 2);
        await slots.AcquireAsync("a", 0, default);
        await slots.AcquireAsync("a", 0, default);

        var third = slots.AcquireAsync("a", 0, default).AsTask();
        var other = slots.AcquireAsync("b", 0, default).AsTask();

        Assert.False(third.IsCompleted);
        Assert.True(other.IsCompletedSuccessfully);
        Assert.Equal(3, slots.Running);
    }

    [Fact]
    public async Task ATenantsWaitingJobs_StartHighestPriorityFirst_FirstInFirstOutWithinAPriority()
    {
        var slots = Slots(max: 1);
        var current = await slots.AcquireAsync("a", 0, default);
        using var cancel = new CancellationTokenSource();
        var waiting = new (string Name, Task<IDisposable> Lease)[]
        {
            ("0 first", slots.AcquireAsync("a", 0, default).AsTask()), ("5 first", slots.AcquireAsync("a", 5, default).AsTask()),
            ("9", slots.AcquireAsync("a", 9, default).AsTask()), ("-3", slots.AcquireAsync("a", -3, default).AsTask()),
            ("5 left", slots.AcquireAsync("a", 5, cancel.Token).AsTask()), ("5 second", slots.AcquireAsync("a", 5, default).AsTask()),
            ("0 second", slots.AcquireAsync("a", 0, default).AsTask()),
        };
        await cancel.CancelAsync(); // leaves its place among the 5s

        var order = new List<string>();
        for (var i = 0; i < waiting.Length - 1; i++)
        {
            current.Dispose();
            var (name, lease) = Assert.Single(waiting, w => w.Lease.IsCompletedSuccessfully && !order.Contains(w.Name));
            order.Add(name);
            current = await lease;
        }

        Assert.Equal(["9", "5 first", "5 second", "0 first", "0 second", "-3"], order);
        Assert.Equal((1, 0), (slots.Running, slots.Waiting));
    }

    [Fact]
    public async Task APriorityCountsWithinItsTenant_TenantsStillTakeTurns()
    {
        var slots = Slots(max: 2);
        var running = new[] { await slots.AcquireAsync("a", 0, default), await slots.AcquireAsync("a", 0, default) };
        var a = slots.AcquireAsync("a", 100, default).AsTask();
        var b = slots.AcquireAsync("b", 0, default).AsTask();
        var aLow = slots.AcquireAsync("a", 0, default).AsTask();

        running[0].Dispose();
        Assert.True(b.IsCompletedSuccessfully); // b's turn: a still runs a job, b none
        Assert.False(a.IsCompleted);
        (await b).Dispose();
        Assert.True(a.IsCompletedSuccessfully);
        Assert.False(aLow.IsCompleted);
    }

    [Fact]
    public async Task CancelledWaiter_GivesUpItsPlace_AndItsSlotGoesToTheNext()
    {
        var slots = Slots(max: 1);
        var holder = await slots.AcquireAsync("a", 0, default);
        using var cancel = new CancellationTokenSource();
        var cancelled = slots.AcquireAsync("b", 0, cancel.Token).AsTask();
        var next = slots.AcquireAsync("c", 0, default).AsTask();

        await cancel.CancelAsync();
        holder.Dispose();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.True(next.IsCompletedSuccessfully);
        Assert.Equal(1, slots.Running);
    }

    [Fact]
    public async Task CancelledWaiters_LeaveTheWaitingCountAtOnce_AndTheTurns()
    {
        // praison_jobs_waiting: 200 jobs cancelled while queued once stayed counted until their turns passed.
        var slots = Slots(max: 1);
        var holder = await slots.AcquireAsync("a", 0, default);
        using var cancel = new CancellationTokenSource();
        var cancelled = Enumerable.Range(0, 200).Select(_ => slots.AcquireAsync("b", 0, cancel.Token).AsTask()).ToList();
        var kept = slots.AcquireAsync("c", 0, default).AsTask();
        Assert.Equal(201, slots.Waiting);

        await cancel.CancelAsync();

        Assert.Equal(1, slots.Waiting);
        Assert.All(cancelled, t => Assert.True(t.IsCanceled));
        holder.Dispose();
        Assert.True(kept.IsCompletedSuccessfully);
        Assert.Equal((1, 0), (slots.Running, slots.Waiting));
        var again = slots.AcquireAsync("b", 0, default).AsTask(); // b's line is gone with its waiters: a new one
        Assert.False(again.IsCompleted);
        (await kept).Dispose();
        Assert.True(again.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task ALeaseReleasedTwice_FreesOneSlot()
    {
        var slots = Slots(max: 1);
        var lease = await slots.AcquireAsync("a", 0, default);
        var waiting = slots.AcquireAsync("a", 0, default).AsTask();
        var another = slots.AcquireAsync("a", 0, default).AsTask();

        lease.Dispose();
        lease.Dispose();

        Assert.True(waiting.IsCompletedSuccessfully);
        Assert.False(another.IsCompleted);
        Assert.Equal(1, slots.Running);
    }

    [Fact]
    public async Task AWaitCancelledWhileItsSlotIsBeingGranted_NeitherSideWaitsForTheOther()
    {
        // The grant ends the waiter's cancellation registration while the cancellation's callback may be
        // running, waiting for the slots' lock the grant holds: the grant must not wait for that callback
        // (a silo deadlocked so, every thread of its pool blocked, when jobs deactivated mid-dispatch).
        var slots = Slots(max: 1);
        for (var round = 0; round < 3_000; round++)
        {
            var held = await slots.AcquireAsync("a", 0, default);
            using var cancel = new CancellationTokenSource();
            var waiting = slots.AcquireAsync("a", 0, cancel.Token).AsTask();
            using var start = new Barrier(2);
            var release = Task.Run(() => { start.SignalAndWait(); held.Dispose(); });
            var cancelling = Task.Run(() => { start.SignalAndWait(); cancel.Cancel(); });

            await Task.WhenAll(release, cancelling).WaitAsync(TimeSpan.FromSeconds(30)); // a deadlock never ends
            try
            {
                (await waiting).Dispose(); // granted first: its holder gives it back
            }
            catch (OperationCanceledException)
            {
                // cancelled first: it left its line
            }

            Assert.Equal((0, 0), (slots.Running, slots.Waiting));
        }
    }
}
