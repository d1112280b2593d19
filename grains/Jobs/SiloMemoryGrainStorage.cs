using System.Collections.Concurrent;
using Orleans.Storage;

namespace Praison.Orleans.Grains.Jobs;

/// <summary>
/// Grain state in this silo's memory, without Orleans' memory provider's hop to a storage grain: a
/// write is a serialization (so nobody shares the stored copy) and a dictionary update, checked by ETag
/// like any storage. What the embedded default (one silo) uses; every silo of a memory-mode cluster
/// in one process (the in-process test clusters) shares one <see cref="Store"/>, as they would a database.
/// </summary>
public sealed class SiloMemoryGrainStorage(string name, IGrainStorageSerializer serializer, SiloMemoryGrainStorage.Store store) : IGrainStorage
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (store.Entries.TryGetValue((name, stateName, grainId), out var stored))
        {
            grainState.State = serializer.Deserialize<T>(stored.Data);
            grainState.ETag = stored.ETag;
            grainState.RecordExists = true;
        }
        else
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
        }

        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var next = new Entry(serializer.Serialize(grainState.State), store.NewETag());
        var key = (name, stateName, grainId);
        var committed = grainState.ETag is { } etag
            ? store.Entries.TryGetValue(key, out var stored) && stored.ETag == etag && store.Entries.TryUpdate(key, next, stored)
            : store.Entries.TryAdd(key, next);
        if (!committed)
        {
            throw Conflict(stateName, grainId, grainState.ETag);
        }

        grainState.ETag = next.ETag;
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = (name, stateName, grainId);
        if (store.Entries.TryGetValue(key, out var stored))
        {
            if (stored.ETag != grainState.ETag || !store.Entries.TryRemove(KeyValuePair.Create(key, stored)))
            {
                throw Conflict(stateName, grainId, grainState.ETag);
            }
        }

        grainState.State = Activator.CreateInstance<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private static InconsistentStateException Conflict(string stateName, GrainId grainId, string? etag) =>
        new($"The stored {stateName} of {grainId} is not the one this write was based on (ETag {etag ?? "none"}).");

    /// <summary>A stored state: its bytes and its ETag.</summary>
    internal sealed record Entry(BinaryData Data, string ETag);

    /// <summary>The states of every silo that shares this store (one per process in practice).</summary>
    public sealed class Store
    {
        private long _version;

        internal ConcurrentDictionary<(string Provider, string StateName, GrainId Grain), Entry> Entries { get; } = new();

        internal string NewETag() => Interlocked.Increment(ref _version).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
