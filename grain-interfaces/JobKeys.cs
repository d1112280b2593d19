using System.Text.RegularExpressions;

namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// A job grain is keyed by tenant and job id (<c>{tenant}/{job_id}</c>), so a tenant can only ever
/// reach its own jobs: another tenant's id names a grain that holds nothing.
/// </summary>
public static partial class JobKeys
{
    /// <summary>The tenant of every job while authentication is off, or with a single API key.</summary>
    public const string DefaultTenant = "default";

    public static string For(string tenant, string jobId) =>
        IsValidTenant(tenant) ? $"{tenant}/{jobId}" : throw new ArgumentException($"Invalid tenant name '{tenant}'.", nameof(tenant));

    /// <summary>The key of the <see cref="IIdempotencyGrain"/> of a tenant's idempotency key.</summary>
    public static string ForIdempotencyKey(string tenant, string idempotencyKey) =>
        IsValidTenant(tenant) ? $"{tenant}/{idempotencyKey}" : throw new ArgumentException($"Invalid tenant name '{tenant}'.", nameof(tenant));

    /// <summary>The grain of a tenant's job.</summary>
    public static IJobGrain Job(this IGrainFactory grains, string tenant, string jobId) => grains.ByKey<IJobGrain>(For(tenant, jobId));

    /// <summary>The grain of a tenant's batch (its key is made as a job's: tenant and batch id).</summary>
    public static IBatchGrain Batch(this IGrainFactory grains, string tenant, string batchId) => grains.ByKey<IBatchGrain>(For(tenant, batchId));

    /// <summary>What a tenant's job may depend on: the batch a batch id names, else the job.</summary>
    public static IJobParent Parent(this IGrainFactory grains, string tenant, string parentId) =>
        JobIds.IsWellFormedBatch(parentId) ? grains.Batch(tenant, parentId) : grains.Job(tenant, parentId);

    /// <summary>The grain of a tenant's job, as the sweep reaches it.</summary>
    public static IJobRecoveryGrain JobRecovery(this IGrainFactory grains, string tenant, string jobId) =>
        grains.ByKey<IJobRecoveryGrain>(For(tenant, jobId));

    /// <summary>The grain of a tenant's idempotency key.</summary>
    public static IIdempotencyGrain IdempotencyKey(this IGrainFactory grains, string tenant, string idempotencyKey) =>
        grains.ByKey<IIdempotencyGrain>(ForIdempotencyKey(tenant, idempotencyKey));

    /// <summary>The key of the <see cref="ISingletonKeyGrain"/> of a tenant's singleton key.</summary>
    public static string ForSingletonKey(string tenant, string singletonKey) =>
        IsValidTenant(tenant) ? $"{tenant}/{singletonKey}" : throw new ArgumentException($"Invalid tenant name '{tenant}'.", nameof(tenant));

    /// <summary>The grain of a tenant's singleton key.</summary>
    public static ISingletonKeyGrain SingletonKey(this IGrainFactory grains, string tenant, string singletonKey) =>
        grains.ByKey<ISingletonKeyGrain>(ForSingletonKey(tenant, singletonKey));

    /// <summary>The key of the <see cref="IConcurrencyKeyGrain"/> of a tenant's concurrency key.</summary>
    public static string ForConcurrencyKey(string tenant, string concurrencyKey) =>
        IsValidTenant(tenant) ? $"{tenant}/{concurrencyKey}" : throw new ArgumentException($"Invalid tenant name '{tenant}'.", nameof(tenant));

    /// <summary>The grain counting the leases of a tenant's concurrency key.</summary>
    public static IConcurrencyKeyGrain ConcurrencyKey(this IGrainFactory grains, string tenant, string concurrencyKey) =>
        grains.ByKey<IConcurrencyKeyGrain>(ForConcurrencyKey(tenant, concurrencyKey));

    /// <summary>The key of a tenant's <see cref="IScheduleGrain"/>.</summary>
    public static string ForSchedule(string tenant, string scheduleId) =>
        IsValidTenant(tenant) ? $"{tenant}/{scheduleId}" : throw new ArgumentException($"Invalid tenant name '{tenant}'.", nameof(tenant));

    /// <summary>The grain of a tenant's schedule.</summary>
    public static IScheduleGrain Schedule(this IGrainFactory grains, string tenant, string scheduleId) =>
        grains.ByKey<IScheduleGrain>(ForSchedule(tenant, scheduleId));

    /// <summary>The grain listing a tenant's schedules.</summary>
    public static IScheduleDirectoryGrain ScheduleDirectory(this IGrainFactory grains, string tenant) =>
        IsValidTenant(tenant) ? grains.ByKey<IScheduleDirectoryGrain>(tenant) : throw new ArgumentException($"Invalid tenant name '{tenant}'.", nameof(tenant));

    /// <summary>Schedule ids: 1–64 of letters, digits, '-' and '_' (they become grain keys and job fields).</summary>
    public static bool IsValidScheduleId(string scheduleId) => ScheduleIdPattern().IsMatch(scheduleId);

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex ScheduleIdPattern();

    public static (string Tenant, string JobId) Parse(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? (DefaultTenant, key) : (key[..slash], key[(slash + 1)..]);
    }

    /// <summary>Tenant names: 1–64 of lowercase letters, digits, '-' and '_'.</summary>
    public static bool IsValidTenant(string tenant) => TenantPattern().IsMatch(tenant);

    [GeneratedRegex("^[a-z0-9_-]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex TenantPattern();
}
