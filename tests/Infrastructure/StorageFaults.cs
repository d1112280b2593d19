using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Praison.Orleans.Grains.Jobs;

namespace Praison.Orleans.Tests.Infrastructure;

/// <summary>What an injected storage fault does to the operation it matches.</summary>
public enum StorageFault
{
    /// <summary>Throws before storage is touched: nothing is written.</summary>
    Fail,

    /// <summary>Writes, then throws as if the reply was lost: storage holds the write, the caller's ETag is the old one.</summary>
    FailAfterCommit,

    /// <summary>Waits for <see cref="FaultRule.Release"/>, then performs the operation: a write caught in flight.</summary>
    Hold,
}

public enum StorageOperation
{
    Write,
    Clear,
}

/// <summary>One injected fault: which job, which operation, which state, and how many times.</summary>
public sealed class FaultRule(string jobId, StorageOperation operation, Func<JobRecord, bool> when, StorageFault fault, int times)
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _times = times;
    private int _left = times;

    public StorageFault Fault { get; } = fault;

    /// <summary>Completes when an operation first met this rule.</summary>
    public Task Reached => _reached.Task;

    /// <summary>Operations this rule has acted on.</summary>
    public int Hits => _times - Volatile.Read(ref _left);

    /// <summary>Lets held operations go on (<see cref="StorageFault.Hold"/>).</summary>
    public void Release() => _released.TrySetResult();

    internal Task Released => _released.Task;

    internal bool TryTake(string grain, StorageOperation op, JobRecord? state)
    {
        if (op != operation || !grain.EndsWith(jobId, StringComparison.Ordinal) || (state is not null && !when(state)))
        {
            return false;
        }

        if (Interlocked.Decrement(ref _left) < 0)
        {
            Interlocked.Increment(ref _left);
            return false;
        }

        _reached.TrySetResult();
        return true;
    }
}

/// <summary>
/// Faults injected into job storage, per job and per operation, for every in-process silo of the test
/// run (a static registry, as the silos share this process; tests use fresh job ids, so rules never
/// meet another test's jobs).
/// </summary>
public static class StorageFaults
{
    private static readonly ConcurrentDictionary<FaultRule, byte> Rules = new();

    /// <summary>Injects <paramref name="fault"/> into the next <paramref name="times"/> writes of <paramref name="jobId"/>'s record that <paramref name="when"/> matches.</summary>
    public static FaultRule OnWrite(string jobId, Func<JobRecord, bool> when, StorageFault fault, int times = 1) =>
        Add(new FaultRule(jobId, StorageOperation.Write, when, fault, times));

    /// <summary>Injects <paramref name="fault"/> into the next <paramref name="times"/> removals of <paramref name="jobId"/>'s record.</summary>
    public static FaultRule OnClear(string jobId, StorageFault fault, int times = 1) =>
        Add(new FaultRule(jobId, StorageOperation.Clear, _ => true, fault, times));

    private static FaultRule Add(FaultRule rule)
    {
        Rules[rule] = 0;
        return rule;
    }

    internal static FaultRule? Take(GrainId grain, StorageOperation operation, object? state)
    {
        var key = grain.Key.ToString()!;
        return Rules.Keys.FirstOrDefault(rule => rule.TryTake(key, operation, state as JobRecord));
    }

    /// <summary>
    /// Wraps the silo's job storage (memory or Azure, whichever is registered) so these faults apply to
    /// it. Call after the storage is added.
    /// </summary>
    public static ISiloBuilder WithStorageFaults(this ISiloBuilder silo)
    {
        var services = silo.Services;
        var registered = services.Last(d => d.ServiceType == typeof(IGrainStorage) && Equals(d.ServiceKey, JobStorage.Name));
        var create = registered.KeyedImplementationFactory!;
        services.Remove(registered);
        services.AddKeyedSingleton<IGrainStorage>(JobStorage.Name, (provider, key) => new FaultyGrainStorage((IGrainStorage)create(provider, key)));
        return silo;
    }
}

/// <summary>A job storage that applies <see cref="StorageFaults"/> around the real one.</summary>
public sealed class FaultyGrainStorage(IGrainStorage inner) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ReadStateAsync(stateName, grainId, grainState);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        ApplyAsync(StorageFaults.Take(grainId, StorageOperation.Write, grainState.State), grainState,
            () => inner.WriteStateAsync(stateName, grainId, grainState));

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        ApplyAsync(StorageFaults.Take(grainId, StorageOperation.Clear, null), grainState,
            () => inner.ClearStateAsync(stateName, grainId, grainState));

    public void Participate(ISiloLifecycle lifecycle) => (inner as ILifecycleParticipant<ISiloLifecycle>)?.Participate(lifecycle);

    private static async Task ApplyAsync<T>(FaultRule? rule, IGrainState<T> grainState, Func<Task> operation)
    {
        if (rule is null)
        {
            await operation();
            return;
        }

        await BeforeAsync(rule);
        if (rule.Fault != StorageFault.FailAfterCommit)
        {
            await operation();
            return;
        }

        // Committed, but the caller never learns it: it keeps the ETag and existence it had before.
        var (etag, exists) = (grainState.ETag, grainState.RecordExists);
        await operation();
        (grainState.ETag, grainState.RecordExists) = (etag, exists);
        throw new InjectedStorageException("injected: committed, then the reply was lost");
    }

    private static async Task BeforeAsync(FaultRule rule)
    {
        switch (rule.Fault)
        {
            case StorageFault.Fail:
                throw new InjectedStorageException("injected: storage refused the operation");
            case StorageFault.Hold:
                await rule.Released;
                break;
        }
    }
}

/// <summary>A storage failure injected by a test (never serialized: the grain must not let it out).</summary>
public sealed class InjectedStorageException(string message) : Exception(message);
