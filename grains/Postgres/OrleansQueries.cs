namespace Praison.Orleans.Grains.Postgres;

/// <summary>
/// What Orleans' ADO.NET membership and reminders providers expect of a PostgreSQL database, written
/// here from their documented contract: they read their statements from the table <c>OrleansQuery</c>
/// (one row per query key; both packages refuse to start when one of theirs is missing), bind
/// parameters by name (<c>@DeploymentId</c>, …) and read result columns by name (<c>Address</c>,
/// <c>Version</c>, …). A query answering true or false returns one integer column, above zero for
/// true. The tables behind the queries are this project's. Part of <see cref="PostgresSchema"/>'s first step.
/// </summary>
internal static class OrleansQueries
{
    /// <summary>A cluster's version with one of its silos (or none), as the membership provider reads a row.</summary>
    private const string SiloRow = """
        SELECT v.deployment_id AS "DeploymentId", s.address AS "Address", s.port AS "Port",
               s.generation AS "Generation", s.silo_name AS "SiloName", s.host_name AS "HostName",
               s.status AS "Status", s.proxy_port AS "ProxyPort", s.suspect_times AS "SuspectTimes",
               s.start_time AS "StartTime", s.i_am_alive_time AS "IAmAliveTime", v.version AS "Version"
        """;

    /// <summary>
    /// Raises the cluster's membership version if it is still the one the change was based on, and
    /// returns the cluster's id then (no row: the change is stale and does nothing).
    /// </summary>
    private const string RaiseVersion = """
        UPDATE praison_membership_versions SET version = version + 1, changed_at = now()
        WHERE deployment_id = @DeploymentId AND version = @Version
        RETURNING deployment_id
        """;

    /// <summary>A reminder as the reminders provider reads it.</summary>
    private const string ReminderRow = """
        SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
               period AS "Period", version AS "Version"
        """;

    /// <summary>
    /// Membership: one version row per cluster, raised by every change of its silos' rows (the providers'
    /// optimistic concurrency); a change whose version is stale changes nothing and answers 0. A silo's
    /// row is inserted only by the statement that raised the version, so either both happen or neither
    /// (a repeated insert is a key violation, which rolls both back). Removing a cluster's version row removes its silos' rows. Reminders: one row per grain and
    /// name, its version raised by every upsert, read by ranges of grain hash.
    /// </summary>
    public const string Schema = $$"""
        CREATE TABLE praison_membership_versions (
            deployment_id text COLLATE "C" PRIMARY KEY,
            version       integer     NOT NULL DEFAULT 0,
            changed_at    timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE praison_silos (
            deployment_id   text COLLATE "C" NOT NULL REFERENCES praison_membership_versions (deployment_id) ON DELETE CASCADE,
            address         text        NOT NULL,
            port            integer     NOT NULL,
            generation      integer     NOT NULL,
            silo_name       text        NOT NULL,
            host_name       text        NOT NULL,
            status          integer     NOT NULL,
            proxy_port      integer     NULL,
            suspect_times   text        NULL,
            start_time      timestamptz NOT NULL,
            i_am_alive_time timestamptz NOT NULL,
            PRIMARY KEY (deployment_id, address, port, generation)
        );
        CREATE TABLE praison_reminders (
            service_id    text COLLATE "C" NOT NULL,
            grain_id      text COLLATE "C" NOT NULL,
            reminder_name text COLLATE "C" NOT NULL,
            start_time    timestamptz NOT NULL,
            period        bigint      NOT NULL,
            grain_hash    integer     NOT NULL,
            version       integer     NOT NULL,
            PRIMARY KEY (service_id, grain_id, reminder_name)
        );
        CREATE INDEX praison_reminders_by_hash ON praison_reminders (service_id, grain_hash);
        CREATE TABLE OrleansQuery (
            QueryKey  varchar(64) PRIMARY KEY,
            QueryText text        NOT NULL
        );
        INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
        ('InsertMembershipVersionKey', $q$
            WITH inserted AS (
                INSERT INTO praison_membership_versions (deployment_id) VALUES (@DeploymentId)
                ON CONFLICT (deployment_id) DO NOTHING RETURNING 1)
            SELECT count(*)::int FROM inserted
        $q$),
        ('InsertMembershipKey', $q$
            WITH raised AS ({{RaiseVersion}}),
            inserted AS (
                INSERT INTO praison_silos (deployment_id, address, port, generation, silo_name, host_name, status,
                                           proxy_port, start_time, i_am_alive_time)
                SELECT deployment_id, @Address, @Port, @Generation, @SiloName, @HostName, @Status,
                       @ProxyPort, @StartTime, @IAmAliveTime
                FROM raised
                RETURNING 1)
            SELECT count(*)::int FROM inserted
        $q$),
        ('UpdateMembershipKey', $q$
            WITH raised AS ({{RaiseVersion}}),
            updated AS (
                UPDATE praison_silos s SET status = @Status, suspect_times = @SuspectTimes, i_am_alive_time = @IAmAliveTime
                FROM raised
                WHERE s.deployment_id = raised.deployment_id AND s.address = @Address AND s.port = @Port
                  AND s.generation = @Generation
                RETURNING 1)
            SELECT count(*)::int FROM updated
        $q$),
        ('UpdateIAmAlivetimeKey', $q$
            UPDATE praison_silos SET i_am_alive_time = @IAmAliveTime
            WHERE deployment_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
        $q$),
        ('MembershipReadRowKey', $q$
            {{SiloRow}}
            FROM praison_membership_versions v
            LEFT JOIN praison_silos s ON s.deployment_id = v.deployment_id
                 AND s.address = @Address AND s.port = @Port AND s.generation = @Generation
            WHERE v.deployment_id = @DeploymentId
        $q$),
        ('MembershipReadAllKey', $q$
            {{SiloRow}}
            FROM praison_membership_versions v
            LEFT JOIN praison_silos s ON s.deployment_id = v.deployment_id
            WHERE v.deployment_id = @DeploymentId
        $q$),
        ('DeleteMembershipTableEntriesKey', $q$
            DELETE FROM praison_membership_versions WHERE deployment_id = @DeploymentId
        $q$),
        ('GatewaysQueryKey', $q$
            SELECT address AS "Address", proxy_port AS "ProxyPort", generation AS "Generation"
            FROM praison_silos
            WHERE deployment_id = @DeploymentId AND status = @Status AND proxy_port > 0
        $q$),
        ('CleanupDefunctSiloEntriesKey', $q$
            DELETE FROM praison_silos
            WHERE deployment_id = @DeploymentId AND i_am_alive_time < @IAmAliveTime AND status <> 3
        $q$),
        ('UpsertReminderRowKey', $q$
            INSERT INTO praison_reminders (service_id, grain_id, reminder_name, start_time, period, grain_hash, version)
            VALUES (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
            ON CONFLICT (service_id, grain_id, reminder_name) DO UPDATE
                SET start_time = excluded.start_time, period = excluded.period, grain_hash = excluded.grain_hash,
                    version = praison_reminders.version + 1
            RETURNING version AS "Version"
        $q$),
        ('ReadReminderRowsKey', $q$
            {{ReminderRow}}
            FROM praison_reminders WHERE service_id = @ServiceId AND grain_id = @GrainId
        $q$),
        ('ReadReminderRowKey', $q$
            {{ReminderRow}}
            FROM praison_reminders
            WHERE service_id = @ServiceId AND grain_id = @GrainId AND reminder_name = @ReminderName
        $q$),
        ('ReadRangeRows1Key', $q$
            {{ReminderRow}}
            FROM praison_reminders
            WHERE service_id = @ServiceId AND grain_hash > @BeginHash AND grain_hash <= @EndHash
        $q$),
        ('ReadRangeRows2Key', $q$
            {{ReminderRow}}
            FROM praison_reminders
            WHERE service_id = @ServiceId AND (grain_hash > @BeginHash OR grain_hash <= @EndHash)
        $q$),
        ('DeleteReminderRowKey', $q$
            WITH deleted AS (
                DELETE FROM praison_reminders
                WHERE service_id = @ServiceId AND grain_id = @GrainId AND reminder_name = @ReminderName
                  AND version = @Version
                RETURNING 1)
            SELECT count(*)::int FROM deleted
        $q$),
        ('DeleteReminderRowsKey', $q$
            DELETE FROM praison_reminders WHERE service_id = @ServiceId
        $q$);
        """;
}
