using Praison.Orleans.Grains.Jobs;

namespace Praison.Orleans.Tests.Grains;

/// <summary>A job's event history (<see cref="JobEvents"/>): what an ending keeps in the record, and what a record read back replays.</summary>
public sealed class JobEventsTests
{
    [Fact]
    public async Task AnEnding_KeepsTheLastEventsInTheRecord_AndTheRecordReadBackReplaysThemUnderTheirIds()
    {
        var events = new JobEvents();
        for (var i = 0; i < JobEvents.MaxKept + 200; i++)
        {
            events.Publish(JobEvents.ProgressEvent(events.NextId(1), JobStatus.Running, new JobProgress(i / 20.0, $"step {i}", i, null)));
        }

        var ended = Failed(events);

        var ending = events.End(ended, progressChanged: true);

        Assert.Equal(JobEvents.MaxKept - 1, ended.History!.Length); // and the final event makes the most kept
        Assert.Equal(["step 203", "step 204"], ended.History.Take(2).Select(e => e.Step)); // the oldest 203 are dropped
        Assert.Equal(ending, ended.History[^2..]);
        Assert.Equal((JobEventKind.Status, JobStatus.Failed), (ending[0].Kind, ending[0].Status));
        var readBack = new JobEvents(); // a new activation, from the stored record
        readBack.Restate(ended);
        var replayed = await ReadAllAsync(readBack.Watch(0));
        Assert.Equal([.. ended.History, JobEvents.FinalEvent(ended)], replayed);
        Assert.Equal(replayed.Select(e => e.Id).Order(), replayed.Select(e => e.Id));
        Assert.Equal(ended.History[^10..].Append(JobEvents.FinalEvent(ended)), await ReadAllAsync(readBack.Watch(ended.History[^11].Id)));
    }

    [Fact]
    public async Task AWatcherHandedTheFinalEvent_CountsUntilItStopsReading()
    {
        var events = new JobEvents();
        var record = Failed(events);
        var watcher = events.Watch(0);

        events.Publish(JobEvents.FinalEvent(record));

        Assert.Equal(1, events.WatcherCount); // its last events are still to be read
        Assert.Single(await ReadAllAsync(watcher));
        events.Forget(watcher);
        Assert.Equal(0, events.WatcherCount);
    }

    private static JobRecord Failed(JobEvents events)
    {
        var record = new JobRecord { Spec = Specs.Recipe("wait"), Status = JobStatus.Failed, Error = "it broke", Epoch = 1 };
        (record.StatusEventId, record.ProgressEventId, record.FinalEventId) = (events.NextId(1), events.NextId(1), events.NextId(1));
        return record;
    }

    private static async Task<List<JobEvent>> ReadAllAsync(System.Threading.Channels.ChannelReader<JobEvent> reader) =>
        await reader.ReadAllAsync().ToListAsync();
}
