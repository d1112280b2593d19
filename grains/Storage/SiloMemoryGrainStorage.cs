using Orleans.Serialization;
using Orleans.Storage;

using Praison.Orleans.Grains.Index;

namespace Praison.Orleans.Grains.Storage;

/// <summary>
/// Grain state in this silo's memory (<see cref="MemoryJobStore"/>), without Orleans' memory
/// provider's hop to a storage grain: a write is a serialization with Orleans' binary serializer (so
/// nobody shares the stored copy) into an array of exactly its size — Orleans' storage serializer
/// keeps its growing buffer, up to twice the data — and a dictionary update, checked by ETag like any storage.
/// </summary>
public sealed class SiloMemoryGrainStorage(string name, Serializer serializer, MemoryJobStore store) : IGrainStorage
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (store.States.TryGetValue((name, stateName, grainId), out var stored))
        {
            grainState.State = serializer.Deserialize<T>(stored.Data);
            grainState.ETag = stored.ETag;
            grainState.RecordExists = true;
        }
        else
        {
            grainState.ETag = null; // the state stays as Orleans made it: a new, default one
            grainState.RecordExists = false;
        }

        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var next = new MemoryJobStore.StoredState(serializer.SerializeToArray(grainState.State), store.NewETag());
        var key = (name, stateName, grainId);
        var committed = grainState.ETag is { } etag
            ? store.States.TryGetValue(key, out var stored) && stored.ETag == etag && store.States.TryUpdate(key, next, stored)
            : store.States.TryAdd(key, next);
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
        if (store.States.TryGetValue(key, out var stored))
        {
            if (stored.ETag != grainState.ETag || !store.States.TryRemove(KeyValuePair.Create(key, stored)))
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
}
