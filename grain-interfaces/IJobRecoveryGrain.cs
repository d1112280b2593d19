namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// The sweep's side of a job grain (same key as <see cref="IJobGrain"/>): not part of what clients
/// may ask of a job.
/// </summary>
[Alias("Praison.IJobRecoveryGrain")]
public interface IJobRecoveryGrain : IGrainWithStringKey
{
    /// <summary>
    /// For a job whose index entry (at <paramref name="indexedVersion"/>, webhook
    /// <paramref name="indexedWebhookPending"/>) says it has something left to do: resumes a live job no
    /// activation runs, retries a pending webhook, removes an expired job, rewrites a stale entry.
    /// False when there is no job behind the entry. Idempotent.
    /// </summary>
    [Alias("CatchUp")]
    Task<bool> CatchUpAsync(long indexedVersion, bool indexedWebhookPending);

    /// <summary>
    /// The index evicted this finished job (its tenant keeps too many): removes it as its retention's end
    /// would. False when there is no job. Idempotent.
    /// </summary>
    [Alias("Evict")]
    Task<bool> EvictAsync();
}
