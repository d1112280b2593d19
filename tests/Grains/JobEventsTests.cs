using Praison.Orleans.Grains.Jobs;

namespace Praison.Orleans.Tests.Grains;

/// <summary>A job's event history (<see cref="JobEvents"/>): what an ending keeps in the record, and what a record read back replays.</summary>
public sealed class JobEventsTests
{
    [Fact]
    public async Task AnEnding_KeepsItsStatusChangesAndTheProgressReachedAtEach_AndTheRecordReadBackReplaysThemUnderTheirIds()
    {
        // A 1,200-step run: its record keeps six events, not the thousand its live history holds.
        var (events, ids) = (new JobEvents(), new JobEventIds());
        var record = new JobRecord { Spec = Specs.Recipe("wait"), Epoch = 1 };
        JobEvent Status(JobStatus status) => new(ids.Next(1), JobEventKind.Status, status, 0, null, null);
        JobEvent Progress(int step) => JobEvents.ProgressEvent(ids.Next(1), JobStatus.Running, new JobProgress(step / 12.0, $"step {step}", step, 1200));
        var (queued, initial, running) = (Status(JobStatus.Queued), Progress(0), Status(JobStatus.Running));
        foreach (var e in new[] { queued, initial, running })
        {
            events.Publish(e);
        }

        var steps = Enumerable.Range(1, 1200).Select(Progress).ToList();
        steps.ForEach(events.Publish);
        (record.Status, record.Error, record.Progress) = (JobStatus.Failed, "it broke", new JobProgress(100, "step 1200", 1200, 1200));
        (record.StatusEventId, record.ProgressEventId, record.FinalEventId) = (ids.Next(1), ids.Next(1), ids.Next(1));

        var ending = JobEvents.End(record, events.Published, progressChanged: true);

        Assert.Equal([queued, initial, running, steps[^1], .. ending], record.History!); // the first status events, though the live history dropped them
        Assert.Equal((JobEventKind.Status, JobStatus.Failed), (ending[0].Kind, ending[0].Status));
        var readBack = new JobEvents(); // a new activation, from the stored record
        readBack.Restate(record);
        var replayed = await ReadAllAsync(readBack.Watch(0));
        Assert.Equal([.. record.History!, JobEvents.FinalEvent(record)], replayed);
        Assert.Equal(replayed.Select(e => e.Id).Order(), replayed.Select(e => e.Id));
        // A client that saw step 600 live resumes with where the run got to, its end and the final event.
        Assert.Equal([steps[^1], .. ending, JobEvents.FinalEvent(record)], await ReadAllAsync(readBack.Watch(steps[599].Id)));
    }

    [Fact]
    public async Task AWatcherHandedTheFinalEvent_CountsUntilItStopsReading()
    {
        var events = new JobEvents();
        var record = Failed(new JobEventIds());
        var watcher = events.Watch(0);

        events.Publish(JobEvents.FinalEvent(record));

        Assert.Equal(1, events.WatcherCount); // its last events are still to be read
        Assert.Single(await ReadAllAsync(watcher));
        events.Forget(watcher);
        Assert.Equal(0, events.WatcherCount);
    }

    private static JobRecord Failed(JobEventIds ids)
    {
        var record = new JobRecord { Spec = Specs.Recipe("wait"), Status = JobStatus.Failed, Error = "it broke", Epoch = 1 };
        (record.StatusEventId, record.ProgressEventId, record.FinalEventId) = (ids.Next(1), ids.Next(1), ids.Next(1));
        return record;
    }

    private static async Task<List<JobEvent>> ReadAllAsync(System.Threading.Channels.ChannelReader<JobEvent> reader) =>
        await reader.ReadAllAsync().ToListAsync();
}
