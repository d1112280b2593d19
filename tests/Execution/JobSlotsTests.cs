using Microsoft.Extensions.Options;
using Praison.Orleans.Grains.Execution;

namespace Praison.Orleans.Tests.Execution;

/// <summary>A silo's slots: shared in turn among tenants with waiting jobs, FIFO within a tenant, capped per tenant.</summary>
public sealed class JobSlotsTests
{
    private static JobSlots Slots(int max, int perTenant = 0) =>
        new(Options.Create(new JobsOptions { MaxConcurrent = max, MaxRunningPerTenant = perTenant }));

    [Fact]
    public async Task FreedSlot_GoesToTheNextTenantInTurn_NotToTheTenantThatQueuedMost()
    {
        var slots = Slots(max: 2);
        var running = new[] { await slots.AcquireAsync("a", default), await slots.AcquireAsync("a", default) };
        var queuedA = Enumerable.Range(0, 100).Select(_ => slots.AcquireAsync("a", default).AsTask()).ToList();
        var queuedB = slots.AcquireAsync("b", default).AsTask();

        running[0].Dispose();

        Assert.True(queuedB.IsCompletedSuccessfully);
        Assert.All(queuedA, t => Assert.False(t.IsCompleted));
        Assert.Equal(2, slots.Running);
    }

    [Fact]
    public async Task Tenants_TakeTurns_AndEachTenantsJobsRunInOrder()
    {
        var slots = Slots(max: 1);
        var first = await slots.AcquireAsync("a", default);
        var order = new List<string>();
        var waiting = new (string Name, Task<IDisposable> Lease)[]
        {
            ("a1", slots.AcquireAsync("a", default).AsTask()), ("a2", slots.AcquireAsync("a", default).AsTask()),
            ("a3", slots.AcquireAsync("a", default).AsTask()), ("b1", slots.AcquireAsync("b", default).AsTask()),
            ("b2", slots.AcquireAsync("b", default).AsTask()), ("c1", slots.AcquireAsync("c", default).AsTask()),
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
        await slots.AcquireAsync("a", default);
        await slots.AcquireAsync("a", default);

        var third = slots.AcquireAsync("a", default).AsTask();
        var other = slots.AcquireAsync("b", default).AsTask();

        Assert.False(third.IsCompleted);
        Assert.True(other.IsCompletedSuccessfully);
        Assert.Equal(3, slots.Running);
    }

    [Fact]
    public async Task CancelledWaiter_GivesUpItsPlace_AndItsSlotGoesToTheNext()
    {
        var slots = Slots(max: 1);
        var holder = await slots.AcquireAsync("a", default);
        using var cancel = new CancellationTokenSource();
        var cancelled = slots.AcquireAsync("b", cancel.Token).AsTask();
        var next = slots.AcquireAsync("c", default).AsTask();

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
        var holder = await slots.AcquireAsync("a", default);
        using var cancel = new CancellationTokenSource();
        var cancelled = Enumerable.Range(0, 200).Select(_ => slots.AcquireAsync("b", cancel.Token).AsTask()).ToList();
        var kept = slots.AcquireAsync("c", default).AsTask();
        Assert.Equal(201, slots.Waiting);

        await cancel.CancelAsync();

        Assert.Equal(1, slots.Waiting);
        Assert.All(cancelled, t => Assert.True(t.IsCanceled));
        holder.Dispose();
        Assert.True(kept.IsCompletedSuccessfully);
        Assert.Equal((1, 0), (slots.Running, slots.Waiting));
        var again = slots.AcquireAsync("b", default).AsTask(); // b's line is gone with its waiters: a new one
        Assert.False(again.IsCompleted);
        (await kept).Dispose();
        Assert.True(again.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task ALeaseReleasedTwice_FreesOneSlot()
    {
        var slots = Slots(max: 1);
        var lease = await slots.AcquireAsync("a", default);
        var waiting = slots.AcquireAsync("a", default).AsTask();
        var another = slots.AcquireAsync("a", default).AsTask();

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
            var held = await slots.AcquireAsync("a", default);
            using var cancel = new CancellationTokenSource();
            var waiting = slots.AcquireAsync("a", cancel.Token).AsTask();
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
