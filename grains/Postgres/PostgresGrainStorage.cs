using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Orleans.Serialization;
using Orleans.Storage;
using Praison.Orleans.Grains.Execution;
using Praison.Orleans.Grains.Index;
using Praison.Orleans.Grains.Jobs;

namespace Praison.Orleans.Grains.Postgres;

/// <summary>
/// Grain state in PostgreSQL (Orleans' binary serializer; the ETag is the row's revision). A job's
/// record is one row of <c>praison_jobs</c> together with its index columns and the snapshot lists
/// show, so one statement commits a transition and its entry: a job never has an entry without its
/// record or the other way round, and there is nothing to heal. Other grains' state (schedules,
/// idempotency keys) is a row of <c>praison_grain_states</c>. Every write is conditional on the
/// revision it was based on — an insert only when there is no row, an update or delete only of the
/// revision read — and goes through <see cref="PostgresCommits"/>, sharing its commit with other
/// grains' writes; reads share round trips the same way (<see cref="PostgresReads"/>).
/// </summary>
public sealed class PostgresGrainStorage(
    PostgresReads reads, PostgresCommits commits, Serializer serializer, IOptions<JobsOptions> options) : IGrainStorage
{
    private const string JobColumns = "tenant, job_id, revision, version, status, created_ticks, completed_ticks, due_ticks, session_id, schedule_id, has_key, removed, snapshot, record, priority, batch_id";

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        try
        {
            await ReadAsync(stateName, grainId, grainState);
        }
        catch (Exception failure) when (failure is NpgsqlException or TimeoutException)
        {
            // Npgsql's exceptions cannot cross to a client (no codec): the caller gets one that can, and a 503.
            throw new JobStorageException($"PostgreSQL could not be read ({failure.GetType().Name}: {failure.Message}).");
        }
    }

    private async Task ReadAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var (first, second) = KeyOf<T>(stateName, grainId);
        var row = typeof(T) == typeof(JobRecord) ? await reads.JobAsync(first, second) : await reads.StateAsync(first, second);
        if (row is var (revision, data))
        {
            grainState.ETag = revision.ToString(System.Globalization.CultureInfo.InvariantCulture);
            grainState.State = serializer.Deserialize<T>(data);
            grainState.RecordExists = true;
        }
        else
        {
            grainState.ETag = null; // the state stays as Orleans made it: a new, default one
            grainState.RecordExists = false;
        }
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var based = Revision(grainState.ETag);
        var statement = grainState.State is JobRecord record
            ? JobWrite(grainId, record, based)
            : StateWrite(stateName, grainId, serializer.SerializeToArray(grainState.State), based);
        if (await CommitAsync(statement) == 0)
        {
            throw Conflict(stateName, grainId, grainState.ETag);
        }

        grainState.ETag = (based + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (grainState.ETag is { } etag)
        {
            var statement = new NpgsqlBatchCommand(typeof(T) == typeof(JobRecord)
                ? "DELETE FROM praison_jobs WHERE tenant = $1 AND job_id = $2 AND revision = $3"
                : "DELETE FROM praison_grain_states WHERE grain_type = $1 AND grain_key = $2 AND revision = $3");
            var (first, second) = KeyOf<T>(stateName, grainId);
            statement.Parameters.Add(new NpgsqlParameter<string> { TypedValue = first });
            statement.Parameters.Add(new NpgsqlParameter<string> { TypedValue = second });
            statement.Parameters.Add(new NpgsqlParameter<long> { TypedValue = Revision(etag) });
            if (await CommitAsync(statement) == 0)
            {
                throw Conflict(stateName, grainId, etag);
            }
        }

        grainState.State = Activator.CreateInstance<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    /// <summary>Commits <paramref name="statement"/> (<see cref="PostgresCommits"/>); a failure leaves as an exception a client can receive.</summary>
    private async Task<int> CommitAsync(NpgsqlBatchCommand statement)
    {
        try
        {
            return await commits.ExecuteAsync(statement);
        }
        catch (Exception failure) when (failure is NpgsqlException or TimeoutException)
        {
            throw new JobStorageException($"PostgreSQL did not confirm a write ({failure.GetType().Name}: {failure.Message}).");
        }
    }

    /// <summary>
    /// The job's row as one statement: its record, and what lists, totals, the quota and the sweep read
    /// of it (the entry the other stores write beside the record, here in the same row).
    /// </summary>
    private NpgsqlBatchCommand JobWrite(GrainId grainId, JobRecord record, long based)
    {
        var (tenant, jobId) = JobKeys.Parse(grainId.Key.ToString()!);
        var snapshot = record.Snapshot(jobId, JobProgress.None);
        var entry = new JobIndexEntry(tenant, snapshot, record.StatusEventId, record.Spec.IdempotencyKey is not null, record.Removed);
        var statement = new NpgsqlBatchCommand(based == 0
            ? $"INSERT INTO praison_jobs ({JobColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT (tenant, job_id) DO NOTHING"
            : """
              UPDATE praison_jobs SET revision = $3, version = $4, status = $5, created_ticks = $6, completed_ticks = $7,
                  due_ticks = $8, session_id = $9, schedule_id = $10, has_key = $11, removed = $12, snapshot = $13, record = $14, priority = $15,
                  batch_id = $16
              WHERE tenant = $1 AND job_id = $2 AND revision = $17
              """);
        var parameters = statement.Parameters;
        parameters.Add(new NpgsqlParameter<string> { TypedValue = tenant });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = jobId });
        parameters.Add(new NpgsqlParameter<long> { TypedValue = based + 1 });
        parameters.Add(new NpgsqlParameter<long> { TypedValue = record.StatusEventId });
        parameters.Add(new NpgsqlParameter<short> { TypedValue = (short)record.Status });
        parameters.Add(new NpgsqlParameter<long> { TypedValue = record.CreatedAt.UtcTicks });
        parameters.Add(Nullable(record.Status.IsTerminal() ? record.CompletedAt?.UtcTicks : null));
        parameters.Add(new NpgsqlParameter<long> { TypedValue = options.Value.DueAt(entry).UtcTicks });
        parameters.Add(Nullable(record.Spec.SessionId));
        parameters.Add(Nullable(record.Spec.ScheduleId));
        parameters.Add(new NpgsqlParameter<bool> { TypedValue = entry.HasIdempotencyKey });
        parameters.Add(new NpgsqlParameter<bool> { TypedValue = entry.Removed });
        parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = serializer.SerializeToArray(snapshot) });
        parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = serializer.SerializeToArray(record) });
        parameters.Add(new NpgsqlParameter<short> { TypedValue = (short)record.Spec.Priority }); // never changes: an UPDATE writes the same
        parameters.Add(Nullable(record.Spec.BatchId)); // nor this
        if (based != 0)
        {
            parameters.Add(new NpgsqlParameter<long> { TypedValue = based });
        }

        return statement;
    }

    private static NpgsqlBatchCommand StateWrite(string stateName, GrainId grainId, byte[] state, long based)
    {
        var statement = new NpgsqlBatchCommand(based == 0
            ? "INSERT INTO praison_grain_states (grain_type, grain_key, revision, state) VALUES ($1, $2, $3, $4) ON CONFLICT (grain_type, grain_key) DO NOTHING"
            : "UPDATE praison_grain_states SET revision = $3, state = $4 WHERE grain_type = $1 AND grain_key = $2 AND revision = $5");
        statement.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stateName });
        statement.Parameters.Add(new NpgsqlParameter<string> { TypedValue = grainId.ToString() });
        statement.Parameters.Add(new NpgsqlParameter<long> { TypedValue = based + 1 });
        statement.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = state });
        if (based != 0)
        {
            statement.Parameters.Add(new NpgsqlParameter<long> { TypedValue = based });
        }

        return statement;
    }

    /// <summary>A job's row is keyed by tenant and job id; other state by its name and the grain's id.</summary>
    private static (string First, string Second) KeyOf<T>(string stateName, GrainId grainId) =>
        typeof(T) == typeof(JobRecord) ? JobKeys.Parse(grainId.Key.ToString()!) : (stateName, grainId.ToString());

    private static long Revision(string? etag) =>
        etag is null ? 0 : long.Parse(etag, System.Globalization.CultureInfo.InvariantCulture);

    private static NpgsqlParameter Nullable(long? value) =>
        new() { NpgsqlDbType = NpgsqlDbType.Bigint, Value = value is { } v ? v : DBNull.Value };

    private static NpgsqlParameter Nullable(string? value) =>
        new() { NpgsqlDbType = NpgsqlDbType.Text, Value = value is null ? DBNull.Value : value };

    private static InconsistentStateException Conflict(string stateName, GrainId grainId, string? etag) =>
        new($"The stored {stateName} of {grainId} is not the one this write was based on (revision {etag ?? "none"}).");
}
