using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Praison.Orleans.Grains.Execution;
using Praison.Orleans.Grains.Index;

namespace Praison.Orleans.Grains.Jobs;

/// <summary>The cluster's one sweeper (key 0).</summary>
[Alias("Praison.IJobSweeperGrain")]
public interface IJobSweeperGrain : IGrainWithIntegerKey
{
    /// <summary>Registers the sweep's reminder (idempotent; every silo calls it as it starts).</summary>
    [Alias("Start")]
    Task StartAsync();

    /// <summary>One sweep, now; returns how many jobs it visited.</summary>
    [Alias("Sweep")]
    Task<int> SweepAsync();
}

/// <summary>
/// Every <see cref="JobsOptions.SweepPeriod"/>, visits each job the index says has something
/// left to do (<see cref="IJobIndex.DueAsync"/>): a live job whose silo was lost resumes, a pending
/// webhook is retried, an expired job is removed, an entry with no job behind it is dropped. One
/// reminder for the whole cluster instead of one per job: a job costs no reminder writes, only its
/// index entry, which it needs for listing anyway.
/// </summary>
public sealed partial class JobSweeperGrain(
    IJobIndex index, IOptions<JobsOptions> options, TimeProvider time, ILogger<JobSweeperGrain> logger)
    : Grain, IJobSweeperGrain, IRemindable
{
    private const string SweepReminder = "sweep";
    private const int ParallelVisits = 32;

    private Task<int>? _sweep;

    public Task StartAsync() =>
        this.RegisterOrUpdateReminder(SweepReminder, options.Value.SweepPeriod, options.Value.SweepPeriod);

    /// <summary>Starts a sweep unless one is still going (a large index may take longer than a period).</summary>
    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (_sweep is not { IsCompleted: false })
        {
            _sweep = SweepAsync();
        }

        return Task.CompletedTask;
    }

    public async Task<int> SweepAsync()
    {
        var grains = GrainFactory; // the visits run on the thread pool, outside this activation
        var due = await index.DueAsync(time.GetUtcNow());
        await VisitAsync(due, (job, entry) => job.CatchUpAsync(entry.Version, entry.Job.Webhook is { Pending: true }));
        var evicted = await index.EvictedAsync(); // their grains were told at once; told again should that have been lost
        await VisitAsync(evicted, (job, _) => job.EvictAsync());
        if (due.Count + evicted.Count > 0)
        {
            LogSwept(logger, due.Count + evicted.Count);
        }

        return due.Count + evicted.Count;

        Task VisitAsync(IReadOnlyList<JobIndexEntry> entries, Func<IJobRecoveryGrain, JobIndexEntry, Task<bool>> visit) =>
            Parallel.ForEachAsync(entries, new ParallelOptions { MaxDegreeOfParallelism = ParallelVisits }, async (entry, _) =>
            {
                try
                {
                    if (!await visit(grains.JobRecovery(entry.Tenant, entry.Job.JobId), entry))
                    {
                        await index.RemoveAsync(entry.Tenant, entry.Job.JobId, entry.Job.CreatedAt); // no job behind it
                    }
                }
                catch (Exception exception)
                {
                    // Its silo may be dead and not yet declared so: the next sweep visits it again.
                    LogVisitFailed(logger, exception, entry.Job.JobId);
                }
            });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sweep: could not visit job {JobId}; the next sweep will")]
    private static partial void LogVisitFailed(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sweep: visited {Count} jobs")]
    private static partial void LogSwept(ILogger logger, int count);
}

/// <summary>Makes sure the sweep's reminder exists once this silo is active.</summary>
public sealed partial class JobSweeperStartup(IGrainFactory grains, ILogger<JobSweeperStartup> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(JobSweeperStartup), ServiceLifecycleStage.Active, StartAsync);

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await grains.GetGrain<IJobSweeperGrain>(0).StartAsync();
        }
        catch (Exception exception)
        {
            // The reminder is stored (Azure mode) or another silo registers it; the next start tries again.
            LogStartFailed(logger, exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not register the sweep's reminder")]
    private static partial void LogStartFailed(ILogger logger, Exception exception);
}
