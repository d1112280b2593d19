using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Praison.Orleans.Grains.Index;

namespace Praison.Orleans.Tests.Infrastructure;

/// <summary>
/// Index removals made to fail, per job, for every in-process silo (a static registry: tests use fresh
/// job ids). Wrapped around the silo's real job index by <see cref="WithIndexFaults"/>.
/// </summary>
public static class IndexFaults
{
    private static readonly ConcurrentDictionary<string, int> FailingRemovals = new(StringComparer.Ordinal);

    /// <summary>The next <paramref name="times"/> removals of <paramref name="jobId"/>'s entry throw.</summary>
    public static void FailRemoval(string jobId, int times = 1) => FailingRemovals[jobId] = times;

    internal static bool TakeRemovalFault(string jobId)
    {
        while (FailingRemovals.TryGetValue(jobId, out var left) && left > 0)
        {
            if (FailingRemovals.TryUpdate(jobId, left - 1, left))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Wraps the registered <see cref="IJobIndex"/> so these faults apply to it. Call after it is added.</summary>
    public static ISiloBuilder WithIndexFaults(this ISiloBuilder silo)
    {
        var services = silo.Services;
        var registered = services.Last(d => d.ServiceType == typeof(IJobIndex));
        services.Remove(registered);
        services.AddSingleton<IJobIndex>(provider => new FaultyJobIndex(registered.ImplementationFactory is { } create
            ? (IJobIndex)create(provider)
            : (IJobIndex)ActivatorUtilities.CreateInstance(provider, registered.ImplementationType!)));
        return silo;
    }

    private sealed class FaultyJobIndex(IJobIndex inner) : IJobIndex
    {
        public Task<JobIndexWrite?> UpsertAsync(JobIndexEntry entry, JobIndexWrite? previous) => inner.UpsertAsync(entry, previous);

        public Task RemoveAsync(string tenant, string jobId, DateTimeOffset createdAt, JobIndexWrite? previous) =>
            TakeRemovalFault(jobId) ? throw new InjectedStorageException("injected: the index removal was lost") : inner.RemoveAsync(tenant, jobId, createdAt, previous);

        public Task<JobListPage> QueryAsync(JobListQuery query) => inner.QueryAsync(query);

        public Task<JobStoreStats> StatsAsync(string tenant) => inner.StatsAsync(tenant);

        public Task<int> LiveCountAsync(string tenant) => inner.LiveCountAsync(tenant);

        public Task<IReadOnlyList<JobIndexEntry>> DueAsync(DateTimeOffset now) => inner.DueAsync(now);
    }
}
