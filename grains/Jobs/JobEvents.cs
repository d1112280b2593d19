using System.Threading.Channels;

namespace Praison.Orleans.Grains.Jobs;

/// <summary>
/// A job's event history on this activation and the watchers that follow it. Ids are reserved by a
/// transition (<see cref="JobTransitions"/>) and published once its change is stored, so a watcher
/// never sees a change that storage does not have. Not thread-safe: used on the grain's scheduler only.
/// </summary>
internal sealed class JobEvents
{
    /// <summary>
    /// Events kept for replay on a live activation; older ones are dropped (a watcher resuming from
    /// before them then restarts from what is kept). A finished job's record keeps fewer (<see cref="End"/>).
    /// </summary>
    public const int MaxKept = 1_000;

    /// <summary>The longest result text a <c>result</c> event carries.</summary>
    public const int MaxResultText = 1000;

    private readonly Queue<JobEvent> _history = new();
    // What an ending keeps of the events the history dropped (a long run): the coalesced dropped prefix.
    private List<JobEvent>? _dropped;
    private readonly List<Channel<JobEvent>> _watchers = [];
    private bool _ended;

    /// <summary>
    /// Watchers reading this job right now: from <see cref="Watch"/> until <see cref="Forget"/>, also
    /// after the final event was handed to them, while they may still be reading what they were given.
    /// </summary>
    public int WatcherCount { get; private set; }

    /// <summary>
    /// Every event published on this activation, in order: the coalesced prefix the live history dropped
    /// (<see cref="MaxKept"/>), then what it keeps.
    /// </summary>
    public IEnumerable<JobEvent> Published => _dropped is null ? _history : _dropped.Concat(_history);

    public void Publish(JobEvent e)
    {
        _history.Enqueue(e);
        if (_history.Count > MaxKept)
        {
            var dropped = _history.Dequeue();
            if (dropped.Kind != JobEventKind.Progress || _history.Peek().Kind != JobEventKind.Progress)
            {
                (_dropped ??= []).Add(dropped); // what coalescing would keep of it
            }
        }

        foreach (var watcher in _watchers)
        {
            watcher.Writer.TryWrite(e);
            if (e.IsFinal)
            {
                watcher.Writer.TryComplete();
            }
        }

        if (e.IsFinal)
        {
            _ended = true;
            _watchers.Clear();
        }
    }

    /// <summary>
    /// A watcher that first receives the kept events after <paramref name="afterId"/>, then each new one
    /// until the final event. Whether the job has ended is this history's own knowledge (its final event
    /// published), never the record's: a terminal record whose write is still in flight has not
    /// published its final events yet, and a watcher arriving then must wait for them.
    /// </summary>
    public ChannelReader<JobEvent> Watch(long afterId)
    {
        var watcher = Channel.CreateUnbounded<JobEvent>(new UnboundedChannelOptions { SingleReader = true });
        foreach (var e in _history.Where(e => e.Id > afterId))
        {
            watcher.Writer.TryWrite(e);
        }

        if (_ended)
        {
            watcher.Writer.TryComplete();
        }
        else
        {
            _watchers.Add(watcher);
        }

        WatcherCount++;
        return watcher.Reader;
    }

    /// <summary>The watcher <paramref name="reader"/> stopped reading (ended, or its client went away).</summary>
    public void Forget(ChannelReader<JobEvent> reader)
    {
        _watchers.RemoveAll(w => w.Reader == reader);
        WatcherCount--;
    }

    /// <summary>Ends every watcher without a final event (the job was deleted).</summary>
    public void EndAll()
    {
        _watchers.ForEach(w => w.Writer.TryComplete());
        _watchers.Clear();
    }

    /// <summary>
    /// Publishes <paramref name="record"/> as stored. A finished job with its history: that history under
    /// its own ids, then the final event — the sequence its watchers saw. Otherwise (a live job, or one
    /// stored before histories were) its status, progress and, when terminal, final event.
    /// </summary>
    public void Restate(JobRecord record)
    {
        if (record.Status.IsTerminal() && record.History is { } history)
        {
            foreach (var e in history)
            {
                Publish(e);
            }

            Publish(FinalEvent(record));
            return;
        }

        var events = new List<JobEvent>
        {
            StatusEvent(record),
            ProgressEvent(record.ProgressEventId, record.Status, record.Progress),
        };
        if (record.Status.IsTerminal())
        {
            events.Add(FinalEvent(record));
        }

        foreach (var e in events.OrderBy(e => e.Id))
        {
            Publish(e);
        }
    }

    /// <summary>
    /// What an ending (<paramref name="record"/>, terminal) publishes before its final event: its status,
    /// then its progress when that changed. And the history the record keeps, coalesced: every status
    /// event <paramref name="published"/> before and these, and of each run of progress events only its last — what the
    /// job had reached when its status next changed, under that event's id. A finished job is kept for
    /// a day, so it keeps a few events (two per attempt and three more, a step name at most
    /// <see cref="JobProgress.MaxStepChars"/> each), not the thousand progress reports of a long run:
    /// a replay from the record goes through the same states, and a reconnect after any id it gave
    /// resumes with the states after it, nothing repeated.
    /// </summary>
    public static JobEvent[] End(JobRecord record, IEnumerable<JobEvent> published, bool progressChanged)
    {
        JobEvent[] ending = progressChanged
            ? [StatusEvent(record), ProgressEvent(record.ProgressEventId, record.Status, record.Progress)]
            : [StatusEvent(record)];
        // The ending starts with a status event and coalesces to itself, so the whole coalesces as the
        // published events coalesced, then the ending.
        record.History = [.. Coalesced(published), .. ending];
        return ending;
    }

    /// <summary>The status events of <paramref name="events"/> and the last of each run of progress events, in order.</summary>
    public static IEnumerable<JobEvent> Coalesced(IEnumerable<JobEvent> events)
    {
        JobEvent? held = null;
        foreach (var e in events)
        {
            if (held is not null && (held.Kind != JobEventKind.Progress || e.Kind != JobEventKind.Progress))
            {
                yield return held;
            }

            held = e;
        }

        if (held is not null)
        {
            yield return held;
        }
    }

    public static JobEvent StatusEvent(JobRecord record) =>
        new(record.StatusEventId, JobEventKind.Status, record.Status, record.Progress.Percentage, record.Progress.CurrentStep, null);

    public static JobEvent ProgressEvent(long id, JobStatus status, JobProgress progress) =>
        new(id, JobEventKind.Progress, status, progress.Percentage, progress.CurrentStep, null);

    /// <summary>The final event of a terminal record: its result (as text, cut short), error or cancellation.</summary>
    public static JobEvent FinalEvent(JobRecord record)
    {
        var (kind, text) = record.Status switch
        {
            JobStatus.Succeeded => (JobEventKind.Result, ResultText(record.ResultJson)),
            JobStatus.Cancelled => (JobEventKind.Cancelled, record.Error ?? "Job was cancelled"), // its error: why a dependency cancelled it
            _ => (JobEventKind.Error, record.Error),
        };
        return new JobEvent(record.FinalEventId, kind, record.Status, record.Progress.Percentage, record.Progress.CurrentStep, text);
    }

    private static string ResultText(string? resultJson)
    {
        var text = JobResults.Text(resultJson);
        return text.Length <= MaxResultText ? text : text[..MaxResultText];
    }
}
