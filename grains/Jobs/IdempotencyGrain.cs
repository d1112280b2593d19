using Microsoft.Extensions.Logging;

namespace Praison.Orleans.Grains.Jobs;

/// <summary>The job an idempotency key names, persisted before that job is created.</summary>
[GenerateSerializer, Alias("Praison.IdempotencyRecord")]
public sealed class IdempotencyRecord
{
    [Id(0)] public string? JobId { get; set; }
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
    private const int MaxDraws = 5;

    private string Tenant => JobKeys.Parse(this.GetPrimaryKeyString()).Tenant;

    public async Task<SubmitReply> SubmitAsync(JobSpec spec)
    {
        if (await FindAsync() is { } existing)
        {
            return new SubmitReply(SubmitStatus.Existing, existing, null, null);
        }

        // Free, or reserved by a submit that never created its job: reserve a fresh id, then create.
        for (var draw = 0; draw < MaxDraws; draw++)
        {
            var jobId = JobIds.New();
            key.State.JobId = jobId;
            await StoreAsync(key.WriteStateAsync);
            var reply = await JobOf(jobId).SubmitAsync(spec);
            if (reply.Status == SubmitStatus.IdTaken)
            {
                continue;
            }

            if (reply.Status != SubmitStatus.Accepted)
            {
                await StoreAsync(key.ClearStateAsync); // refused: the key stays free
            }

            return reply;
        }

        throw new InvalidOperationException($"No free job id after {MaxDraws} draws.");
    }

    public async Task<JobSnapshot?> FindAsync() =>
        key.State.JobId is { } known ? await JobOf(known).GetStatusAsync() : null;

    public async Task ReleaseAsync(string jobId)
    {
        if (key.State.JobId == jobId)
        {
            await StoreAsync(key.ClearStateAsync);
            LogReleased(logger, jobId);
        }
    }

    private Task StoreAsync(Func<Task> write) => key.StoreAsync(write, GrainContext, logger, "an idempotency key");

    private IJobGrain JobOf(string jobId) => GrainFactory.Job(Tenant, jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Idempotency key freed from job {JobId}")]
    private static partial void LogReleased(ILogger logger, string jobId);
}
