namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// One idempotency key of one tenant (key <see cref="JobKeys.ForIdempotencyKey"/>). A grain key has one activation in the
/// cluster, so concurrent submits with the key — through any gateway, to any silo — queue here and
/// exactly one job is created.
/// </summary>
[Alias("Praison.IIdempotencyGrain")]
public interface IIdempotencyGrain : IGrainWithStringKey
{
    /// <summary>Longest idempotency key accepted.</summary>
    public const int MaxKeyLength = 256;

    /// <summary>The job the key names (<see cref="SubmitStatus.Existing"/>), or a new job created for it.</summary>
    [Alias("Submit")]
    Task<SubmitReply> SubmitAsync(JobSpec spec);

    /// <summary>The job the key names now, or null when it names none (creates nothing).</summary>
    [Alias("Find")]
    Task<JobSnapshot?> FindAsync();

    /// <summary>
    /// Frees the key if it still names <paramref name="jobId"/> (the job was deleted). One-way: the job
    /// grain calls it while this grain may be waiting on that job in <see cref="SubmitAsync"/>, and
    /// waiting for the answer would be a cycle that stalls both until their calls time out.
    /// </summary>
    [OneWay]
    [Alias("Release")]
    Task ReleaseAsync(string jobId);
}
