using Microsoft.Extensions.Logging;

namespace Praison.Orleans.Grains.Jobs;

/// <summary>The job an idempotency key names, persisted before that job is created.</summary>
[GenerateSerializer, Alias("Praison.IdempotencyRecord")]
public sealed class IdempotencyRecord : Storage.ICommittedRecord<IdempotencyRecord>
{
    [Id(0)] public string? JobId { get; set; }

    [Id(1)] public long Revision { get; set; }

    public IdempotencyRecord Copy() => (IdempotencyRecord)MemberwiseClone();
}

/// <summary>
/// A key of a tenant that names one job at a time (an idempotency key, a singleton key). The job id is
/// chosen and stored first, then the job is created under it: a crash after creating finds the stored
/// id's job on retry; a crash before creating leaves an id with no job, which the retry replaces.
/// Either way the key yields one job while <see cref="StillNames"/> holds for it.
/// </summary>
public abstract class KeyedSubmitGrain(IPersistentState<IdempotencyRecord> key, ILogger logger, string what) : Grain
{
    private Storage.CommittedState<IdempotencyRecord>? _store;

    private protected Storage.CommittedState<IdempotencyRecord> Store =>
        _store ??= new(key, GrainContext, logger, what, record => record.JobId is not null);

    private protected string? KnownJobId => Store.Stored?.JobId;

    private string Tenant => JobKeys.Parse(this.GetPrimaryKeyString()).Tenant;

    /// <summary>Whether the key still answers with <paramref name="job"/>, its job, to a submit of <paramref name="spec"/>.</summary>
    private protected abstract bool StillNames(JobSnapshot job, JobSpec spec);

    public async Task<SubmitReply> SubmitAsync(JobSpec spec)
    {
        if (await FindAsync() is { } existing && StillNames(existing, spec))
        {
            return new SubmitReply(SubmitStatus.Existing, existing, null, null);
        }

        // Free, or reserved by a submit that never created its job: reserve a fresh id, then create.
        var reply = await JobIds.UnderFreshIdAsync((key: this, spec), static async (s, jobId) =>
        {
            await s.key.Store.CommitAsync(new IdempotencyRecord { JobId = jobId });
            return await s.key.JobOf(jobId).SubmitAsync(s.spec);
        });
        if (reply.Status != SubmitStatus.Accepted)
        {
            await Store.ClearAsync(); // refused: the key stays free
        }

        return reply;
    }

    public async Task<JobSnapshot?> FindAsync() =>
        KnownJobId is { } known ? await JobOf(known).GetStatusAsync() : null;

    private IJobGrain JobOf(string jobId) => GrainFactory.Job(Tenant, jobId);
}

/// <summary>Maps one (tenant, idempotency key) to one job, for as long as that job is kept.</summary>
public sealed partial class IdempotencyGrain(
    [PersistentState("key", JobStorage.Name)] IPersistentState<IdempotencyRecord> key,
    ILogger<IdempotencyGrain> logger) : KeyedSubmitGrain(key, logger, "an idempotency key"), IIdempotencyGrain
{
    private protected override bool StillNames(JobSnapshot job, JobSpec spec) => true;

    public async Task ReleaseAsync(string jobId)
    {
        if (KnownJobId == jobId)
        {
            await Store.ClearAsync();
            LogReleased(logger, jobId);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Idempotency key freed from job {JobId}")]
    private static partial void LogReleased(ILogger logger, string jobId);
}

/// <summary>
/// Maps one (tenant, singleton key) to its job while that job is queued or running, or was created
/// within the submit's <see cref="JobSpec.SingletonSeconds"/> (<see cref="ISingletonKeyGrain"/>).
/// </summary>
public sealed class SingletonKeyGrain(
    [PersistentState("singleton", JobStorage.Name)] IPersistentState<IdempotencyRecord> key,
    TimeProvider time,
    ILogger<SingletonKeyGrain> logger) : KeyedSubmitGrain(key, logger, "a singleton key"), ISingletonKeyGrain
{
    private protected override bool StillNames(JobSnapshot job, JobSpec spec) =>
        !job.Status.IsTerminal() || job.CreatedAt + TimeSpan.FromSeconds(spec.SingletonSeconds) > time.GetUtcNow();
}
