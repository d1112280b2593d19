namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// One singleton key of one tenant (key <see cref="JobKeys.ForSingletonKey"/>): a burst of submits
/// naming it makes one job — the first. While that job is queued or running, or for
/// <see cref="JobSpec.SingletonSeconds"/> after it was created when the submit names a window, a submit
/// with the key answers with that job (<see cref="SubmitStatus.Existing"/>) and creates nothing; after
/// that, the next submit makes the key's next job.
/// </summary>
[Alias("Praison.ISingletonKeyGrain")]
public interface ISingletonKeyGrain : IGrainWithStringKey
{
    /// <summary>Longest singleton key accepted.</summary>
    public const int MaxKeyLength = 256;

    /// <summary>The key's job while it still stands for the key (<see cref="SubmitStatus.Existing"/>), or a new job made the key's.</summary>
    [Alias("Submit")]
    Task<SubmitReply> SubmitAsync(JobSpec spec);
}
