using System.Text;
using Microsoft.Extensions.Logging;

namespace Praison.Orleans.Grains.Batches;

/// <summary>
/// Creating a batch's jobs, and how the batch ended as its dependants learn it.
/// </summary>
public sealed partial class BatchGrain
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(100), LongestRetry = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Creates every job of the record that is not yet created (<see cref="InFlight"/> at once), then the
    /// then job, then stores that creation is over: which jobs were never created (the batch was
    /// cancelled first, or a job was refused) are missing. Stops, storing nothing, when the activation goes.
    /// </summary>
    private async Task CreateJobsAsync(CancellationToken stop)
    {
        await Task.Yield(); // after the call that started it
        var record = Record!;
        var missing = new List<int>();
        try
        {
            await Bounded.ForEachAsync(Enumerable.Range(0, record.JobIds.Length), InFlight, async position =>
            {
                stop.ThrowIfCancellationRequested();
                if (Record?.CancelledAt is not null || !await CreateAsync(record.JobIds[position], record.Specs![position], stop))
                {
                    missing.Add(position);
                }
            });
            if (record.ThenJobId is { } then && Record?.CancelledAt is null)
            {
                await CreateAsync(then, record.ThenSpec!, stop);
            }

            stop.ThrowIfCancellationRequested();
            await UntilStoredAsync(() => CommitAsync(stored =>
            {
                var next = stored.Copy();
                (next.Specs, next.ThenSpec) = (null, null);
                var states = (byte[])_known.Clone();
                foreach (var position in missing)
                {
                    states[position] = BatchJobStates.Missing;
                }

                next.States = states;
                return next;
            }), stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return; // the next activation goes on from the record
        }

        foreach (var position in missing)
        {
            await LearnAsync(position, BatchJobStates.Missing);
        }

        _created?.TrySetResult();
        Publish();
        if (AllEnded)
        {
            await CompleteAsync();
        }
        else
        {
            FollowJobs(ReconcilePeriod);
        }
    }

    /// <summary>
    /// Creates job <paramref name="jobId"/> under its drawn id until the job answers (a failure is tried
    /// again, waiting longer each time): true when it exists as this batch's job (created now, or by an
    /// activation lost after its submit), false when it was refused.
    /// </summary>
    private async Task<bool> CreateAsync(string jobId, JobSpec spec, CancellationToken stop)
    {
        var job = GrainFactory.Job(Tenant, jobId);
        for (var delay = FirstRetry; ; delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestRetry.Ticks)))
        {
            try
            {
                var reply = await job.SubmitAsync(spec);
                switch (reply.Status)
                {
                    case SubmitStatus.Accepted:
                        return true;
                    case SubmitStatus.IdTaken:
                        return (await job.GetStatusAsync())?.BatchId == BatchId; // another job under the id (unlikely) is not this batch's
                    default:
                        LogJobRefused(logger, BatchId, jobId, reply.Error);
                        return false;
                }
            }
            catch (Exception exception) when (!stop.IsCancellationRequested)
            {
                LogCreateFailed(logger, exception, BatchId, jobId, delay);
            }

            await Task.Delay(delay, time, stop);
        }
    }

    /// <summary>Runs <paramref name="write"/> until storage takes it, waiting longer after each refusal.</summary>
    private async Task UntilStoredAsync(Func<Task> write, CancellationToken stop)
    {
        for (var delay = FirstRetry; ; delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestRetry.Ticks)))
        {
            try
            {
                await write();
                return;
            }
            catch (JobStorageException exception)
            {
                LogWriteFailed(logger, exception, BatchId, delay);
            }

            await Task.Delay(delay, time, stop);
        }
    }

    /// <summary>
    /// How the ended batch ended, for its dependants: its outcome, what went wrong, and the results of the
    /// jobs that succeeded as one JSON object by job id, in the batch's order. Past
    /// <see cref="Execution.JobsOptions.MaxResultChars"/> the results stop there (a dependant then fails, saying so).
    /// </summary>
    private async Task<JobEnd> EndOfAsync(BatchRecord record)
    {
        var counts = BatchJobStates.Counts(_counts);
        var status = OutcomeOf(record, counts);
        var succeeded = Enumerable.Range(0, _known.Length).Where(i => _known[i] == (byte)JobStatus.Succeeded).Select(i => record.JobIds[i]).ToList();
        var results = new string?[succeeded.Count];
        var limit = options.Value.MaxResultChars;
        long total = 0;
        await Bounded.ForEachAsync(Enumerable.Range(0, succeeded.Count), InFlight, async i =>
        {
            if (total <= limit && (await GrainFactory.Job(Tenant, succeeded[i]).GetResultAsync()).Outcome?.ResultJson is { } result)
            {
                results[i] = result;
                total += result.Length;
            }
        });

        var json = new StringBuilder("{");
        for (var i = 0; i < succeeded.Count && json.Length <= limit; i++)
        {
            if (results[i] is { } result)
            {
                json.Append(json.Length > 1 ? "," : "").Append('"').Append(succeeded[i]).Append("\":").Append(result);
            }
        }

        var error = status == JobStatus.Succeeded ? null
            : $"Of its {record.JobIds.Length} jobs, {counts.Succeeded} succeeded, {counts.Failed} failed, {counts.Cancelled} were cancelled and {counts.Missing} are missing";
        return new JobEnd(BatchId, status, json.Append('}').ToString(), error, SomeSucceeded: counts.Succeeded > 0);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: storage did not take its write; trying again in {Delay}")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string batchId, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: job {JobId} was refused and is missing: {Error}")]
    private static partial void LogJobRefused(ILogger logger, string batchId, string jobId, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: could not create job {JobId}; trying again in {Delay}")]
    private static partial void LogCreateFailed(ILogger logger, Exception exception, string batchId, string jobId, TimeSpan delay);
}
