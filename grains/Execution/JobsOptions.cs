
namespace Praison.Orleans.Grains.Execution;

/// <summary>
/// How a silo runs and keeps jobs. Bound from the <c>Jobs</c> configuration section; the rules that
/// read its retention and sweep settings (expired, due) live beside the sweep, in <see cref="Index.JobSweepRules"/>.
/// </summary>
public sealed class JobsOptions
{
    public const string Section = "Jobs";

    /// <summary>
    /// Jobs that may run at once on one silo; the rest wait queued, first in, first out within a tenant,
    /// the tenants with waiting jobs taking turns.
    /// Default: 10, or the environment variable <c>PRAISONAI_MAX_CONCURRENT_JOBS</c>.
    /// </summary>
    public int MaxConcurrent { get; set; } = 10;

    /// <summary>
    /// The most slots of one silo one tenant's jobs may hold at once; 0: no cap (a tenant may use every
    /// free slot, and the slots are shared in turn among tenants with waiting jobs). Default: 0.
    /// </summary>
    public int MaxRunningPerTenant { get; set; }

    /// <summary>
    /// Slots of one silo a tenant leaves to the others once the silo serves more than one tenant, so
    /// another tenant's job starts at once while one tenant's long jobs would fill every slot (no job is
    /// ever stopped for it: a tenant that already holds them keeps them until they end). A silo serves
    /// more than one tenant from the start when <see cref="ConfiguredTenants"/> is two or more, and
    /// otherwise from the first job of a second tenant; a single-tenant silo uses every slot.
    /// Default (null): a tenth of <see cref="MaxConcurrent"/>, at least 1 (0 when it is 1); 0: no reserve.
    /// </summary>
    public int? ReservedSlots { get; set; }

    /// <summary>
    /// How many tenants the deployment's API keys name (<c>Auth:Tenants</c>, read from the host's
    /// configuration when this is not set). Two or more: <see cref="ReservedSlots"/> hold from the start.
    /// </summary>
    public int? ConfiguredTenants { get; set; }

    /// <summary>The slots a tenant leaves to others on a silo serving more than one (<see cref="ReservedSlots"/>).</summary>
    public int ReservedSlotsOrDefault => ReservedSlots ?? (MaxConcurrent > 1 ? Math.Max(1, MaxConcurrent / 10) : 0);

    /// <summary>
    /// The longest result a job may store, as JSON text in characters; a larger one fails the job with
    /// an error that says so. Default: 8,388,608 (8 Mi).
    /// </summary>
    public int MaxResultChars { get; set; } = 8 * 1024 * 1024;

    /// <summary>Run-time limit for a job that gives no <c>timeout</c>, in seconds. Default: 3600.</summary>
    public int DefaultTimeoutSeconds { get; set; } = 3600;

    /// <summary>Attempts for a job that gives no <c>max_attempts</c>. Default: 3.</summary>
    public int DefaultMaxAttempts { get; set; } = 3;

    /// <summary>How often a running job's progress is written to storage. Default: 2 seconds.</summary>
    public TimeSpan ProgressCheckpointInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How often the sweep visits the jobs the index says have something left to do: it restarts a live
    /// job whose silo was lost, retries a pending webhook and removes a job past its retention.
    /// Default: 1 minute (the least Orleans allows for the sweep's reminder unless its options are lowered).
    /// </summary>
    public TimeSpan SweepPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a finished job is kept after <c>completed_at</c>; then it is removed with its index
    /// entry and idempotency key. Default: 24 hours.
    /// </summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Memory mode: the most finished jobs one tenant keeps in the silo's memory; past that its oldest
    /// finished jobs are removed before their retention ends (a tenant submitting at full speed would
    /// otherwise fill the silo's memory within the retention). 0: no bound. Azure Storage keeps every
    /// job for <see cref="Retention"/> (in storage, not memory). Default: 100,000.
    /// </summary>
    public int MaxRetainedPerTenant { get; set; } = 100_000;

    /// <summary>
    /// How long a finished job stays in memory (activated) once nobody watches it and its webhook has
    /// settled; then only storage holds it, and a request reads it back (its record keeps the events a
    /// stream replays). Default: by storage (<see cref="FinishedJobIdleTimeInMemory"/>, <see cref="FinishedJobIdleTimeInStorage"/>).
    /// </summary>
    public TimeSpan? FinishedJobIdleTime { get; set; }

    /// <summary>
    /// The default of <see cref="FinishedJobIdleTime"/> in memory: zero, at once — reading a record back
    /// is a dictionary lookup, while a finished activation kept a few seconds dies in gen2, whose pauses
    /// took a fifth of the time under load (docs/benchmarks.md).
    /// </summary>
    public static readonly TimeSpan FinishedJobIdleTimeInMemory = TimeSpan.Zero;

    /// <summary>
    /// The default of <see cref="FinishedJobIdleTime"/> in durable storage: 5 seconds — the client that
    /// polled a job to its end usually reads its status or result once more, and each read back is a
    /// storage request.
    /// </summary>
    public static readonly TimeSpan FinishedJobIdleTimeInStorage = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The sweep runs on a reminder, which Orleans refuses below its minimum period: a shorter
    /// <see cref="SweepPeriod"/> would silently leave no sweep at all (no recovery, retention or
    /// webhook retries), so it is refused at start-up instead.
    /// </summary>
    public IEnumerable<string> SweepProblems(TimeSpan minimumReminderPeriod)
    {
        if (SweepPeriod < minimumReminderPeriod)
        {
            yield return $"Jobs:SweepPeriod ({SweepPeriod}) must be at least Orleans' minimum reminder period ({minimumReminderPeriod}).";
        }
    }

    /// <summary>The problems with these options, empty when they are valid.</summary>
    public IEnumerable<string> Problems()
    {
        if (MaxConcurrent is < 1 or > 10_000)
        {
            yield return $"Jobs:MaxConcurrent (PRAISONAI_MAX_CONCURRENT_JOBS) must be 1–10000, not {MaxConcurrent}.";
        }

        if (MaxResultChars < 1)
        {
            yield return $"Jobs:MaxResultChars must be positive, not {MaxResultChars}.";
        }

        if (ReservedSlots < 0 || ReservedSlots >= MaxConcurrent && ReservedSlots > 0)
        {
            yield return $"Jobs:ReservedSlots must be 0 (none) or less than Jobs:MaxConcurrent ({MaxConcurrent}), not {ReservedSlots}.";
        }

        if (MaxRunningPerTenant < 0)
        {
            yield return $"Jobs:MaxRunningPerTenant must be 0 (no cap) or more, not {MaxRunningPerTenant}.";
        }

        if (DefaultTimeoutSeconds is < 1 or > JobSpec.MaxTimeoutSeconds)
        {
            yield return $"Jobs:DefaultTimeoutSeconds must be 1–{JobSpec.MaxTimeoutSeconds}, not {DefaultTimeoutSeconds}.";
        }

        if (DefaultMaxAttempts is < 1 or > 10)
        {
            yield return $"Jobs:DefaultMaxAttempts must be 1–10, not {DefaultMaxAttempts}.";
        }

        if (ProgressCheckpointInterval <= TimeSpan.Zero)
        {
            yield return "Jobs:ProgressCheckpointInterval must be positive.";
        }

        if (FinishedJobIdleTime < TimeSpan.Zero)
        {
            yield return "Jobs:FinishedJobIdleTime must be zero or more.";
        }

        if (MaxRetainedPerTenant < 0)
        {
            yield return $"Jobs:MaxRetainedPerTenant must be 0 (no bound) or more, not {MaxRetainedPerTenant}.";
        }

        if (Retention <= TimeSpan.Zero)
        {
            yield return "Jobs:Retention must be positive.";
        }

        if (SweepPeriod <= TimeSpan.Zero)
        {
            yield return "Jobs:SweepPeriod must be positive.";
        }
    }
}
