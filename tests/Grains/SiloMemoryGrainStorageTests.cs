using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Praison.Orleans.Grains.Index;
using Praison.Orleans.Grains.Jobs;
using Praison.Orleans.Grains.Storage;

namespace Praison.Orleans.Tests.Grains;

/// <summary>The memory mode's storage keeps the contract of any grain storage: copies, and writes checked by ETag.</summary>
public sealed class SiloMemoryGrainStorageTests
{
    private static readonly GrainId Job = GrainId.Create("job", "default/run_0123456789ab");

    private readonly SiloMemoryGrainStorage _storage = new(
        JobStorage.Name,
        new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>(),
        new MemoryJobStore());

    [Fact]
    public async Task Read_GivesACopyOfWhatWasWritten_NotTheWrittenObject()
    {
        var written = new GrainState<JobRecord>(new JobRecord { Reason = "submitted", Revision = 1 });
        await _storage.WriteStateAsync("job", Job, written);
        written.State!.Reason = "changed after the write";

        var read = await ReadAsync();

        Assert.True(read.RecordExists);
        Assert.Equal("submitted", read.State!.Reason);
        Assert.Equal(written.ETag, read.ETag);
    }

    [Fact]
    public async Task WriteOrClear_BasedOnAnOlderETag_IsRefusedAndChangesNothing()
    {
        var first = new GrainState<JobRecord>(new JobRecord { Revision = 1 });
        await _storage.WriteStateAsync("job", Job, first);
        var stale = await ReadAsync();
        first.State!.Revision = 2;
        await _storage.WriteStateAsync("job", Job, first); // someone else wrote since `stale` was read

        stale.State!.Revision = 99;
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("job", Job, stale));
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.ClearStateAsync("job", Job, stale));
        var fresh = new GrainState<JobRecord>(new JobRecord { Revision = 100 }); // no ETag: a create, but one exists
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("job", Job, fresh));

        Assert.Equal(2, (await ReadAsync()).State!.Revision);
    }

    [Fact]
    public async Task Clear_WithTheCurrentETag_RemovesTheRecord()
    {
        var state = new GrainState<JobRecord>(new JobRecord { Revision = 1 });
        await _storage.WriteStateAsync("job", Job, state);

        await _storage.ClearStateAsync("job", Job, state);

        Assert.False(state.RecordExists);
        Assert.False((await ReadAsync()).RecordExists);
    }

    private async Task<GrainState<JobRecord>> ReadAsync()
    {
        var state = new GrainState<JobRecord>(new JobRecord());
        await _storage.ReadStateAsync("job", Job, state);
        return state;
    }
}
