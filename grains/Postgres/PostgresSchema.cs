using Microsoft.Extensions.Logging;
using Npgsql;

namespace Praison.Orleans.Grains.Postgres;

/// <summary>
/// The project's schema in PostgreSQL, applied by every silo at start-up so a fresh database needs no
/// manual step: numbered steps, each applied once, all in one transaction under an advisory lock (silos
/// starting together apply it once; one that fails part-way leaves nothing), and the version reached
/// recorded in <c>praison_schema</c> with the service whose jobs the database holds. A database whose
/// schema is newer than this build knows is refused (an older silo must not write rows it does not
/// understand), and so is one of another service.
/// </summary>
public static partial class PostgresSchema
{
    /// <summary>The newest schema version this build knows (the number of <see cref="Steps"/>).</summary>
    public static int Version => Steps.Length;

    // The advisory lock every applier takes: "praison" in ASCII.
    private const long LockKey = 0x70_72_61_69_73_6f_6e;

    /// <summary>
    /// The steps, oldest first; a released step never changes (a change is a new step). Step 1 (first
    /// released with the PostgreSQL store): one row per job — its record, the snapshot lists show and
    /// the columns lists, totals, the quota and the sweep read, times as UTC ticks, exactly as the
    /// records hold them; the counts behind totals, stats and the quota, kept by a trigger in the same
    /// transaction as each change (<c>praison_job_counts</c>: per tenant and status, a row per counting
    /// connection so concurrent committers never wait on each other's rows; summed when read, a closed
    /// connection's rows folded into shard 0 by the sweep); grain state (schedules, schedule directories, idempotency keys); and what
    /// Orleans' ADO.NET membership and reminders providers expect (<see cref="OrleansQueries"/>). Every
    /// row carries the revision its conditional writes check.
    /// </summary>
    private static readonly string[] Steps =
    [
        """
        CREATE TABLE praison_jobs (
            tenant          text COLLATE "C" NOT NULL,
            job_id          text COLLATE "C" NOT NULL,
            revision        bigint   NOT NULL,
            version         bigint   NOT NULL,
            status          smallint NOT NULL,
            created_ticks   bigint   NOT NULL,
            completed_ticks bigint   NULL,
            due_ticks       bigint   NOT NULL,
            session_id      text COLLATE "C" NULL,
            schedule_id     text COLLATE "C" NULL,
            has_key         boolean  NOT NULL,
            removed         boolean  NOT NULL,
            snapshot        bytea    NOT NULL,
            record          bytea    NOT NULL,
            PRIMARY KEY (tenant, job_id)
        );
        CREATE INDEX praison_jobs_listed ON praison_jobs (tenant, created_ticks DESC, job_id) WHERE NOT removed;
        CREATE INDEX praison_jobs_by_status ON praison_jobs (tenant, status, created_ticks DESC, job_id) WHERE NOT removed;
        CREATE INDEX praison_jobs_by_session ON praison_jobs (tenant, session_id, created_ticks DESC, job_id) WHERE session_id IS NOT NULL AND NOT removed;
        CREATE INDEX praison_jobs_by_schedule ON praison_jobs (tenant, schedule_id, created_ticks DESC, job_id) WHERE schedule_id IS NOT NULL AND NOT removed;
        CREATE INDEX praison_jobs_due ON praison_jobs (due_ticks);
        CREATE INDEX praison_jobs_ended ON praison_jobs (tenant, completed_ticks) WHERE completed_ticks IS NOT NULL AND NOT removed;
        CREATE TABLE praison_job_counts (
            tenant text COLLATE "C" NOT NULL,
            status smallint NOT NULL,
            shard  integer  NOT NULL,
            jobs   bigint   NOT NULL,
            keys   bigint   NOT NULL,
            PRIMARY KEY (tenant, status, shard)
        );
        CREATE FUNCTION praison_count_job() RETURNS trigger LANGUAGE plpgsql AS $count$
        BEGIN
            IF TG_OP = 'UPDATE' AND OLD.status = NEW.status AND OLD.removed = NEW.removed AND OLD.has_key = NEW.has_key THEN
                RETURN NULL;
            END IF;
            IF TG_OP <> 'INSERT' AND NOT OLD.removed THEN
                INSERT INTO praison_job_counts AS c VALUES (OLD.tenant, OLD.status, pg_backend_pid(), -1, -OLD.has_key::int)
                ON CONFLICT (tenant, status, shard) DO UPDATE SET jobs = c.jobs + excluded.jobs, keys = c.keys + excluded.keys;
            END IF;
            IF TG_OP <> 'DELETE' AND NOT NEW.removed THEN
                INSERT INTO praison_job_counts AS c VALUES (NEW.tenant, NEW.status, pg_backend_pid(), 1, NEW.has_key::int)
                ON CONFLICT (tenant, status, shard) DO UPDATE SET jobs = c.jobs + excluded.jobs, keys = c.keys + excluded.keys;
            END IF;
            RETURN NULL;
        END
        $count$;
        CREATE TRIGGER praison_jobs_counted AFTER INSERT OR UPDATE OR DELETE ON praison_jobs
            FOR EACH ROW EXECUTE FUNCTION praison_count_job();
        CREATE TABLE praison_grain_states (
            grain_type text COLLATE "C" NOT NULL,
            grain_key  text COLLATE "C" NOT NULL,
            revision   bigint NOT NULL,
            state      bytea  NOT NULL,
            PRIMARY KEY (grain_type, grain_key)
        );
        """ + OrleansQueries.Schema,
        // Step 2 (the list's priority filter): a job's priority, indexed only where it is not the default
        // (most jobs pay nothing for it; a filter on 0 walks the tenant's list). Rows written before it say 0.
        """
        ALTER TABLE praison_jobs ADD COLUMN priority smallint NOT NULL DEFAULT 0;
        CREATE INDEX praison_jobs_by_priority ON praison_jobs (tenant, priority, created_ticks DESC, job_id) WHERE priority <> 0 AND NOT removed;
        """,
        // Step 3 (the list's batch filter): the batch a job was created in; rows written before it have none.
        """
        ALTER TABLE praison_jobs ADD COLUMN batch_id text COLLATE "C" NULL;
        CREATE INDEX praison_jobs_by_batch ON praison_jobs (tenant, batch_id, created_ticks DESC, job_id) WHERE batch_id IS NOT NULL AND NOT removed;
        """,
    ];

    /// <summary>
    /// Brings the database <paramref name="database"/> opens to <see cref="Version"/> for the service
    /// <paramref name="serviceId"/>; throws <see cref="InvalidOperationException"/> when it holds a newer
    /// version, or another service's jobs (job rows are keyed by tenant and job id, not by service: two
    /// deployments on one database would read and overwrite each other's jobs).
    /// </summary>
    public static async Task<int> ApplyAsync(NpgsqlDataSource database, string serviceId, ILogger logger, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, "SELECT pg_advisory_xact_lock($1)", cancellationToken, LockKey);
        await ExecuteAsync(connection,
            "CREATE TABLE IF NOT EXISTS praison_schema (id int PRIMARY KEY CHECK (id = 1), version int NOT NULL, service_id text NOT NULL)",
            cancellationToken);
        var (found, owner) = await ReadVersionAsync(connection, cancellationToken);
        if (owner is not null && owner != serviceId)
        {
            throw new InvalidOperationException(
                $"The database holds the jobs of service '{owner}'; this process is of service '{serviceId}' (Cluster:ServiceId). Give each deployment a database of its own.");
        }

        if (found > Version)
        {
            throw new InvalidOperationException(
                $"The database's schema is version {found}; this build knows versions up to {Version}. Run a build at least as new as the one that upgraded it.");
        }

        if (found == Version)
        {
            return found;
        }

        for (var step = found + 1; step <= Version; step++)
        {
            await ExecuteAsync(connection, Steps[step - 1], cancellationToken);
        }

        await ExecuteAsync(connection,
            "INSERT INTO praison_schema (id, version, service_id) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET version = excluded.version",
            cancellationToken, Version, serviceId);
        await transaction.CommitAsync(cancellationToken);
        LogUpgraded(logger, found, Version);
        return Version;
    }

    private static async Task<(int Version, string? ServiceId)> ReadVersionAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var read = new NpgsqlCommand("SELECT version, service_id FROM praison_schema WHERE id = 1", connection);
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetInt32(0), reader.GetString(1)) : (0, null);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "PostgreSQL schema upgraded from version {From} to {To}")]
    private static partial void LogUpgraded(ILogger logger, int from, int to);
}
