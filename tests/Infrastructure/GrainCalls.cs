using System.Collections.Concurrent;

namespace Praison.Orleans.Tests.Infrastructure;

/// <summary>
/// Lets a test wait until a silo has sent a particular grain call (an outgoing call filter on every
/// test silo), so a race can be set up on a real event instead of a guess at timing; and lose one-way
/// calls, as a silo lost with them in flight would.
/// </summary>
public static class GrainCalls
{
    private static readonly ConcurrentDictionary<Waiter, byte> Waiters = new();
    private static readonly ConcurrentDictionary<Dropped, byte> Drops = new();

    /// <summary>Until disposed, one-way calls to <paramref name="method"/> of grains whose key ends with <paramref name="keySuffix"/> are lost (never delivered).</summary>
    public static IDisposable Drop(string method, string keySuffix)
    {
        var dropped = new Dropped(method, keySuffix);
        Drops[dropped] = 0;
        return dropped;
    }

    /// <summary>Completes once a grain call to <paramref name="method"/> of a grain whose key ends with <paramref name="keySuffix"/> has been sent.</summary>
    public static Task Sent(string method, string keySuffix)
    {
        var waiter = new Waiter(method, keySuffix);
        Waiters[waiter] = 0;
        return waiter.Done.Task;
    }

    /// <summary>The filter: registered on each test silo with <c>AddOutgoingGrainCallFilter</c>.</summary>
    public static Task Record(IOutgoingGrainCallContext context)
    {
        if (!Drops.IsEmpty && Drops.Keys.Any(d => d.Method == context.MethodName && context.TargetId.Key.ToString()!.EndsWith(d.KeySuffix, StringComparison.Ordinal)))
        {
            Interlocked.Increment(ref s_dropped);
            return Task.CompletedTask;
        }

        if (!Waiters.IsEmpty)
        {
            var key = context.TargetId.Key.ToString()!;
            foreach (var waiter in Waiters.Keys)
            {
                if (waiter.Method == context.MethodName && key.EndsWith(waiter.KeySuffix, StringComparison.Ordinal))
                {
                    Waiters.TryRemove(waiter, out _);
                    waiter.Done.TrySetResult();
                }
            }
        }

        return context.Invoke();
    }

    private static long s_dropped;

    /// <summary>How many calls have been lost so far (a test checks its loss was real).</summary>
    public static long DroppedCount => Interlocked.Read(ref s_dropped);

    private sealed record Dropped(string Method, string KeySuffix) : IDisposable
    {
        public void Dispose() => Drops.TryRemove(this, out _);
    }

    private sealed record Waiter(string Method, string KeySuffix)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
