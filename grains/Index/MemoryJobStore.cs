using System.Collections.Concurrent;

namespace Praison.Orleans.Grains.Index;

/// <summary>
/// What memory mode keeps: the job records (<see cref="Storage.SiloMemoryGrainStorage"/>) and the job index
/// (<see cref="MemoryJobIndex"/>), in the one silo's memory. The silos of an in-process test
/// cluster share one, as they would share a database; silos in different processes cannot.
/// </summary>
public sealed class MemoryJobStore
{
    private long _version;

    /// <summary>Stored grain states by provider, state name and grain: their serialized bytes and ETag.</summary>
    internal ConcurrentDictionary<(string Provider, string StateName, GrainId Grain), StoredState> States { get; } = new();

    /// <summary>Index entries by tenant.</summary>
    internal ConcurrentDictionary<string, TenantJobs> Tenants { get; } = new(StringComparer.Ordinal);

    internal string NewETag() => Interlocked.Increment(ref _version).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A stored grain state: its bytes and its ETag.</summary>
    internal sealed record StoredState(byte[] Data, string ETag);
}
