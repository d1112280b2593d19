using System.Collections.Concurrent;

namespace Praison.Orleans.Tests.Infrastructure;

/// <summary>
/// Lets a test wait until a silo has sent a particular grain call (an outgoing call filter on every
/// test silo), so a race can be set up on a real event instead of a guess at timing.
/// </summary>
public static class GrainCalls
{
    private static readonly ConcurrentDictionary<Waiter, byte> Waiters = new();

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

    private sealed record Waiter(string Method, string KeySuffix)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
