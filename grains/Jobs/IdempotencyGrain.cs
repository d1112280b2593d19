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
/// Maps one (tenant, key) to one job. The job id is chosen and stored first, then the job is created
/// under it: a crash after creating finds the stored id's job on retry; a crash before creating leaves
/// an id with no job, which the retry replaces. Either way the key yields one job.
/// </summary>
public sealed partial class IdempotencyGrain(
    [PersistentState("key", JobStorage.Name)] IPersistentState<IdempotencyRecord> key,
    ILogger<IdempotencyGrain> logger) : Grain, IIdempotencyGrain
{
    private Storage.CommittedState<IdempotencyRecord>? _store;

    private Storage.CommittedState<IdempotencyRecord> Store =>
        _store ??= new(key, GrainContext, logger, "an idempotency key", record => record.JobId is not null);

    private string? KnownJobId => Store.Stored?.JobId;

    private string Tenant => JobKeys.Parse(this.GetPrimaryKeyString()).Tenant;

    public async Task<SubmitReply> SubmitAsync(JobSpec spec)
    {
        if (await FindAsync() is { } existing)
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

    public async Task ReleaseAsync(string jobId)
    {
        if (KnownJobId == jobId)
        {
            await Store.ClearAsync();
            LogReleased(logger, jobId);
        }
    }

    private IJobGrain JobOf(string jobId) => GrainFactory.Job(Tenant, jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Idempotency key freed from job {JobId}")]
    private static partial void LogReleased(ILogger logger, string jobId);
}
