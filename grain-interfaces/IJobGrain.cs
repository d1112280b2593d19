namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// One job, keyed by its id (<c>run_</c> + 12 hex). The grain is the single owner of the job's state
/// machine; work runs in a background loop, so every method here returns promptly.
/// </summary>
[Alias("Praison.IJobGrain")]
public interface IJobGrain : IGrainWithStringKey
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
}
