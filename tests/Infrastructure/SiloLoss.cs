namespace Praison.Orleans.Tests.Infrastructure;

/// <summary>
/// Calls made just after a silo was killed: until the cluster declares it dead, a call routed to it
/// fails or waits out the response timeout. For a test polling the survivors, that is "not yet".
/// </summary>
public static class SiloLoss
{
    /// <summary>The call's answer, or null when it met the dead silo.</summary>
    public static async Task<T?> UnlessItMetTheDeadSilo<T>(Func<Task<T>> call)
        where T : class?
    {
        try
        {
            return await call();
        }
        catch (Exception exception) when (exception is OrleansException or TimeoutException)
        {
            return null;
        }
    }

    /// <summary>Polls a job, after a silo was killed, until it is terminal.</summary>
    public static Task<JobSnapshot?> UntilTerminalAfterSiloLoss(this IJobGrain job, TimeSpan timeout) =>
        Eventually.Until(() => UnlessItMetTheDeadSilo(job.GetStatusAsync), s => s is { } snap && snap.Status.IsTerminal(), "a terminal status", timeout);
}
