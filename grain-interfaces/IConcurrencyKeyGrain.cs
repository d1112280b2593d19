namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// One concurrency key of one tenant (key <see cref="JobKeys.ForConcurrencyKey"/>): the one place in the
/// cluster that counts the leases of its key, so at most a limit of the jobs naming it run at once, and
/// at most so many start per period, whichever silos run them. A job asks for a lease before it asks its
/// silo for a slot; one not granted at once is granted later through its silo's
/// <see cref="IKeyLeaseAgentGrain"/>. Leases are counted by job id: asking again (a job resumed on
/// another silo) never takes a second one. The grain keeps its counts in memory; a new activation asks
/// every silo what its jobs hold and wait for, and a dead silo's leases return once membership declares it dead.
/// </summary>
[Alias("Praison.IConcurrencyKeyGrain")]
public interface IConcurrencyKeyGrain : IGrainWithStringKey
{
    /// <summary>True: the job holds a lease now; false: it waits, and its silo's agent hears when it is granted.</summary>
    [Alias("Acquire")]
    Task<bool> AcquireAsync(KeyLeaseRequest request);

    /// <summary>
    /// Lease <paramref name="leaseId"/> of the job is given back, held or waited for (its work stopped, or
    /// its wait was cancelled); a lease the job has since asked for again under another id stays.
    /// </summary>
    [Alias("Release")]
    Task ReleaseAsync(string jobId, string leaseId);

    /// <summary>The key's running and waiting counts.</summary>
    [Alias("Counts")]
    Task<KeyLeaseCounts> GetCountsAsync();
}

/// <summary>
/// Where a job's silo takes and loses leases: the key grains tell it here when a waiting job is granted
/// one, and a new key activation asks it what its jobs hold. Keyed by the silo's address and placed there.
/// </summary>
[Alias("Praison.IKeyLeaseAgentGrain")]
public interface IKeyLeaseAgentGrain : IGrainWithStringKey
{
    /// <summary>
    /// The waiting job's lease <paramref name="leaseId"/> of <paramref name="key"/> is granted; a job no
    /// longer waiting for it gives it back. False: this grain is not on the silo its key names (nothing done).
    /// </summary>
    [Alias("Granted")]
    Task<bool> GrantedAsync(string key, string jobId, string leaseId);

    /// <summary>What this silo's jobs hold and wait for of <paramref name="key"/>; null when the grain is not on the silo its key names.</summary>
    [Alias("Leases")]
    Task<KeyLeaseReport?> GetLeasesAsync(string key);

    /// <summary>
    /// The concurrency keys of <paramref name="tenant"/> this silo's jobs hold or wait for, with how many
    /// of them do which; null when the grain is not on the silo its key names.
    /// </summary>
    [Alias("Keys")]
    Task<IReadOnlyList<KeyTally>?> GetKeysAsync(string tenant);
}

/// <summary>One key's jobs on one silo (or, summed, in the cluster): holding a lease, waiting for one, and the limits they run under.</summary>
[GenerateSerializer, Immutable, Alias("Praison.KeyTally")]
public sealed record KeyTally(
    [property: Id(0)] string Key,
    [property: Id(1)] int Running,
    [property: Id(2)] int Waiting,
    [property: Id(3)] KeyLimits Limits);

/// <summary>Limits a key keeps to: a concurrency limit, and optionally at most <see cref="Starts"/> starts per <see cref="Period"/>.</summary>
[GenerateSerializer, Immutable, Alias("Praison.KeyLimits")]
public sealed record KeyLimits(
    [property: Id(0)] int Concurrency,
    [property: Id(1)] int Starts = 0,
    [property: Id(2)] TimeSpan Period = default)
{
    /// <summary>True when the key keeps to a number of starts per period.</summary>
    public bool Throttled => Starts > 0 && Period > TimeSpan.Zero;
}

/// <summary>
/// A job asking for a lease: its lease's id (new at each ask, so a late release of an earlier lease never
/// frees a later one), from which silo (its address, <see cref="IKeyLeaseAgentGrain"/>'s key), at which
/// priority (a waiting line is highest first, first come first served within one), under which limits,
/// and when it first asked (by its silo's clock: a rebuilt line is put back in that order).
/// </summary>
[GenerateSerializer, Immutable, Alias("Praison.KeyLeaseRequest")]
public sealed record KeyLeaseRequest(
    [property: Id(0)] string JobId,
    [property: Id(1)] string LeaseId,
    [property: Id(2)] string Silo,
    [property: Id(3)] int Priority,
    [property: Id(4)] KeyLimits Limits,
    [property: Id(5)] DateTimeOffset AskedAt);

/// <summary>What one silo's jobs hold of a key (with when each was granted) and wait for.</summary>
[GenerateSerializer, Immutable, Alias("Praison.KeyLeaseReport")]
public sealed record KeyLeaseReport(
    [property: Id(0)] IReadOnlyList<HeldKeyLease> Held,
    [property: Id(1)] IReadOnlyList<KeyLeaseRequest> Waiting);

/// <summary>A lease a job holds, granted at <see cref="GrantedAt"/>.</summary>
[GenerateSerializer, Immutable, Alias("Praison.HeldKeyLease")]
public sealed record HeldKeyLease([property: Id(0)] KeyLeaseRequest Request, [property: Id(1)] DateTimeOffset GrantedAt);

/// <summary>A key's leases held and waited for now.</summary>
[GenerateSerializer, Immutable, Alias("Praison.KeyLeaseCounts")]
public sealed record KeyLeaseCounts(
    [property: Id(0)] int Running,
    [property: Id(1)] int Waiting);
