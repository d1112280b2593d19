namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// One job, keyed by <see cref="JobKeys.For"/> (tenant and job id, <c>run_</c> + 12 hex). The grain is the single owner of the job's state
/// machine; work runs in a background loop, so every method here returns promptly.
/// </summary>
[Alias("Praison.IJobGrain")]
public interface IJobGrain : IJobParent
{
    /// <summary>Persists the job as queued and starts it; never overwrites an existing job.</summary>
    [Alias("Submit")]
    Task<SubmitReply> SubmitAsync(JobSpec spec);

    /// <summary>The job's current status, or null when no such job exists.</summary>
    [Alias("GetStatus")]
    Task<JobSnapshot?> GetStatusAsync();

    /// <summary>The outcome of a terminal job; <see cref="JobCommandStatus.WrongState"/> before that.</summary>
    [Alias("GetResult")]
    Task<JobResultReply> GetResultAsync();

    /// <summary>Cancels a queued or running job; <see cref="JobCommandStatus.WrongState"/> when terminal.</summary>
    [Alias("Cancel")]
    Task<JobCommandReply> CancelAsync();

    /// <summary>Removes a terminal job; <see cref="JobCommandStatus.WrongState"/> while it is live.</summary>
    [Alias("Delete")]
    Task<JobCommandReply> DeleteAsync();

    /// <summary>
    /// Every event after <paramref name="afterEventId"/> (0: from the start), then each new one as it
    /// happens, ending after the final event. Empty when no such job exists. Any number of watchers
    /// may watch at once; disposing the enumeration releases the watcher.
    /// </summary>
    [Alias("Watch")]
    IAsyncEnumerable<JobEvent> WatchAsync(long afterEventId, CancellationToken cancellationToken = default);

    /// <summary>True while this job still waits to learn how job <paramref name="parentId"/> ends (it depends on it and has not started or ended).</summary>
    [Alias("WaitsOn"), AlwaysInterleave] // a read, asked by a parent that may be waiting on this job's submit
    Task<bool> WaitsOnAsync(string parentId);
}
