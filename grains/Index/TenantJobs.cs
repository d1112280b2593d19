using Praison.Orleans.Grains.Execution;

namespace Praison.Orleans.Grains.Index;

/// <summary>
/// One tenant's entries in memory mode's index (<see cref="MemoryJobIndex"/>), kept so that every
/// question costs what its answer costs, not the number of jobs retained:
/// <list type="bullet">
/// <item>ordered sets of the listed entries, newest first — all of them, by status, by session, by
/// schedule — so a page walks from the newest to its own end (at most the list depth, 10,000) and a
/// total or a count by status is a set's size;</item>
/// <item>the finished entries by when they ended, oldest first: those past their retention are a
/// prefix of it (subtracted from counts and skipped by pages until they are removed), and those past
/// <see cref="JobsOptions.MaxRetainedPerTenant"/> are its oldest, which are evicted;</item>
/// <item>the ids the sweep must look at whatever the time: live, removed, or with a webhook pending.</item>
/// </list>
/// One lock per tenant; an update is a few set operations under it.
/// </summary>
internal sealed class TenantJobs
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, JobIndexEntry> _entries = new(StringComparer.Ordinal);
    private readonly SortedSet<ListKey> _listed = new(ListKey.NewestFirst);
    private readonly SortedSet<ListKey>[] _byStatus = [.. Enum.GetValues<JobStatus>().Select(_ => new SortedSet<ListKey>(ListKey.NewestFirst))];
    private readonly Dictionary<string, SortedSet<ListKey>> _bySession = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<ListKey>> _bySchedule = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<ListKey>> _byBatch = new(StringComparer.Ordinal);

    // Jobs of a priority other than the default (a job's priority never changes); a filter on 0 walks the list.
    private readonly Dictionary<int, SortedSet<ListKey>> _byPriority = [];
    private readonly SortedSet<(DateTimeOffset EndedAt, string JobId)> _finished = new(Comparer<(DateTimeOffset EndedAt, string JobId)>.Create(
        (x, y) => x.EndedAt != y.EndedAt ? x.EndedAt.CompareTo(y.EndedAt) : string.CompareOrdinal(x.JobId, y.JobId)));
    private readonly HashSet<string> _attention = new(StringComparer.Ordinal);
    private readonly HashSet<string> _evicted = new(StringComparer.Ordinal);
    private int _keys;

    /// <summary>
    /// Stores <paramref name="entry"/> unless a newer version of its job is here. When that makes the
    /// tenant's finished entries more than <paramref name="maxRetained"/> (0: no bound), the oldest are
    /// evicted: no longer listed or counted, and returned, for their jobs to be removed.
    /// </summary>
    public IReadOnlyList<string> Upsert(JobIndexEntry entry, int maxRetained)
    {
        var id = entry.Job.JobId;
        lock (_gate)
        {
            var listed = !entry.Removed && !_evicted.Contains(id);
            if (_entries.TryGetValue(id, out var known))
            {
                if (known.Version > entry.Version)
                {
                    return [];
                }

                if (!(listed && Relist(known, entry)))
                {
                    Unlist(known);
                    if (listed)
                    {
                        List(entry);
                    }
                }
            }
            else if (listed)
            {
                List(entry);
            }

            _entries[id] = entry;

            var needsAttention = !entry.Job.Status.IsTerminal() || entry.Removed || entry.Job.Webhook is { Pending: true };
            _ = needsAttention ? _attention.Add(id) : _attention.Remove(id);
            return maxRetained > 0 && _finished.Count > maxRetained ? EvictOldest(_finished.Count - maxRetained) : [];
        }
    }

    public void Remove(string jobId)
    {
        lock (_gate)
        {
            if (_entries.Remove(jobId, out var known))
            {
                Unlist(known);
                _attention.Remove(jobId);
                _evicted.Remove(jobId);
            }
        }
    }

    /// <summary>The page <paramref name="query"/> asks for, newest first, and how many match in all.</summary>
    public JobListPage Query(JobListQuery query, JobsOptions options, DateTimeOffset now)
    {
        lock (_gate)
        {
            var (set, exact) = SetFor(query);
            var (skip, take) = ((query.Page - 1) * query.PageSize, query.PageSize);
            var page = new List<JobSnapshot>(take);
            var matched = 0;
            foreach (var key in set)
            {
                var job = _entries[key.JobId].Job;
                if (!query.Matches(job) || options.IsExpired(job, now))
                {
                    continue;
                }

                if (matched++ >= skip && page.Count < take)
                {
                    page.Add(job);
                }

                if (exact && page.Count == take)
                {
                    break; // the set is the filter: its size gives the total
                }
            }

            var total = exact ? set.Count - Expired(options, now).Count(query.Matches) : matched;
            return new JobListPage(page, total);
        }
    }

    public JobStoreStats Stats(JobsOptions options, DateTimeOffset now)
    {
        lock (_gate)
        {
            var expired = Expired(options, now).ToList();
            var counts = Enum.GetValues<JobStatus>().ToDictionary(
                status => status, status => _byStatus[(int)status].Count - expired.Count(job => job.Status == status));
            var keys = _keys - expired.Count(job => _entries[job.JobId].HasIdempotencyKey);
            return new JobStoreStats(_listed.Count - expired.Count, keys, counts);
        }
    }

    public int LiveCount()
    {
        lock (_gate)
        {
            return _byStatus[(int)JobStatus.Queued].Count + _byStatus[(int)JobStatus.Running].Count;
        }
    }

    /// <summary>What the sweep must visit at <paramref name="now"/>: the due among those needing attention, and the expired.</summary>
    public IEnumerable<JobIndexEntry> Due(JobsOptions options, DateTimeOffset now)
    {
        lock (_gate)
        {
            return [.. _attention.Select(id => _entries[id]).Where(entry => options.IsDue(entry, now)),
                .. Expired(options, now).Where(job => !_attention.Contains(job.JobId)).Select(job => _entries[job.JobId])];
        }
    }

    /// <summary>
    /// The entries evicted past the bound whose jobs have not been removed yet; not those already removed
    /// for clients while their webhook is pending, which the sweep visits when their round is due.
    /// </summary>
    public IEnumerable<JobIndexEntry> Evicted()
    {
        lock (_gate)
        {
            return [.. _evicted.Select(id => _entries[id]).Where(entry => !entry.Removed)];
        }
    }

    /// <summary>The listed finished jobs past their retention, oldest first; the caller holds the lock.</summary>
    private IEnumerable<JobSnapshot> Expired(JobsOptions options, DateTimeOffset now) =>
        _finished.TakeWhile(f => options.IsExpired(f.EndedAt, now)).Select(f => _entries[f.JobId].Job);

    /// <summary>The set to walk for <paramref name="query"/>: the smallest that holds every match; exact when it is the whole filter.</summary>
    private (SortedSet<ListKey> Set, bool Exact) SetFor(JobListQuery query)
    {
        var candidates = new List<SortedSet<ListKey>>(3);
        if (query.Status is { } status)
        {
            candidates.Add(_byStatus[(int)status]);
        }

        if (!string.IsNullOrEmpty(query.SessionId))
        {
            candidates.Add(_bySession.GetValueOrDefault(query.SessionId) ?? Empty);
        }

        if (!string.IsNullOrEmpty(query.ScheduleId))
        {
            candidates.Add(_bySchedule.GetValueOrDefault(query.ScheduleId) ?? Empty);
        }

        if (!string.IsNullOrEmpty(query.BatchId))
        {
            candidates.Add(_byBatch.GetValueOrDefault(query.BatchId) ?? Empty);
        }

        if (query.Priority is { } priority)
        {
            if (priority == 0)
            {
                return (candidates.Append(_listed).MinBy(set => set.Count)!, false);
            }

            candidates.Add(_byPriority.GetValueOrDefault(priority) ?? Empty);
        }

        return candidates.Count switch
        {
            0 => (_listed, true),
            1 => (candidates[0], true),
            _ => (candidates.MinBy(set => set.Count)!, false),
        };
    }

    private static readonly SortedSet<ListKey> Empty = new(ListKey.NewestFirst);

    /// <summary>Evicts the <paramref name="count"/> oldest finished entries; the caller holds the lock.</summary>
    private List<string> EvictOldest(int count)
    {
        var oldest = _finished.Take(count).Select(f => f.JobId).ToList();
        foreach (var id in oldest)
        {
            Unlist(_entries[id]);
            _evicted.Add(id);
        }

        return oldest;
    }

    /// <summary>Adds a listed entry to every set it belongs in; the caller holds the lock.</summary>
    private void List(JobIndexEntry entry)
    {
        var (job, key) = (entry.Job, ListKey.Of(entry.Job));
        _listed.Add(key);
        _byStatus[(int)job.Status].Add(key);
        Group(_bySession, job.SessionId)?.Add(key);
        Group(_bySchedule, job.ScheduleId)?.Add(key);
        Group(_byBatch, job.BatchId)?.Add(key);
        if (job.Priority != 0)
        {
            (_byPriority.TryGetValue(job.Priority, out var set) ? set : _byPriority[job.Priority] = new(ListKey.NewestFirst)).Add(key);
        }

        if (job.Status.IsTerminal())
        {
            _finished.Add(EndOf(job));
        }

        _keys += entry.HasIdempotencyKey ? 1 : 0;
    }

    /// <summary>
    /// Moves a listed entry from what <paramref name="known"/> said to what <paramref name="entry"/> says
    /// with the fewest set changes (a job's end: out of one status set, into another and the finished);
    /// false, changing nothing, when <paramref name="known"/> was not listed. The caller holds the lock.
    /// </summary>
    private bool Relist(JobIndexEntry known, JobIndexEntry entry)
    {
        var (before, after, key) = (known.Job, entry.Job, ListKey.Of(entry.Job));
        if (ListKey.Of(before) != key || !_listed.Contains(key))
        {
            return false;
        }

        if (before.Status != after.Status)
        {
            _byStatus[(int)before.Status].Remove(key);
            _byStatus[(int)after.Status].Add(key);
        }

        if (before.SessionId != after.SessionId)
        {
            Ungroup(_bySession, before.SessionId, key);
            Group(_bySession, after.SessionId)?.Add(key);
        }

        if (before.ScheduleId != after.ScheduleId)
        {
            Ungroup(_bySchedule, before.ScheduleId, key);
            Group(_bySchedule, after.ScheduleId)?.Add(key);
        }

        if (before.BatchId != after.BatchId)
        {
            Ungroup(_byBatch, before.BatchId, key);
            Group(_byBatch, after.BatchId)?.Add(key);
        }

        if (before.Status.IsTerminal() != after.Status.IsTerminal() || EndOf(before) != EndOf(after))
        {
            if (before.Status.IsTerminal())
            {
                _finished.Remove(EndOf(before));
            }

            if (after.Status.IsTerminal())
            {
                _finished.Add(EndOf(after));
            }
        }

        _keys += (entry.HasIdempotencyKey ? 1 : 0) - (known.HasIdempotencyKey ? 1 : 0);
        return true;
    }

    /// <summary>Takes an entry out of the sets it is listed in, if it is; the caller holds the lock.</summary>
    private void Unlist(JobIndexEntry entry)
    {
        var (job, key) = (entry.Job, ListKey.Of(entry.Job));
        if (!_listed.Remove(key))
        {
            return; // removed or evicted: listed nowhere
        }

        _byStatus[(int)job.Status].Remove(key);
        Ungroup(_bySession, job.SessionId, key);
        Ungroup(_bySchedule, job.ScheduleId, key);
        Ungroup(_byBatch, job.BatchId, key);
        if (_byPriority.TryGetValue(job.Priority, out var ofPriority) && ofPriority.Remove(key) && ofPriority.Count == 0)
        {
            _byPriority.Remove(job.Priority);
        }

        _finished.Remove(EndOf(job));
        _keys -= entry.HasIdempotencyKey ? 1 : 0;
    }

    private static (DateTimeOffset, string) EndOf(JobSnapshot job) => (job.CompletedAt ?? job.CreatedAt, job.JobId);

    private static SortedSet<ListKey>? Group(Dictionary<string, SortedSet<ListKey>> groups, string? name) =>
        string.IsNullOrEmpty(name) ? null
        : groups.TryGetValue(name, out var set) ? set
        : groups[name] = new SortedSet<ListKey>(ListKey.NewestFirst);

    private static void Ungroup(Dictionary<string, SortedSet<ListKey>> groups, string? name, ListKey key)
    {
        if (!string.IsNullOrEmpty(name) && groups.TryGetValue(name, out var set) && set.Remove(key) && set.Count == 0)
        {
            groups.Remove(name);
        }
    }

    /// <summary>Where a job sorts in lists: newest creation first, then job id, so pages never overlap.</summary>
    private readonly record struct ListKey(DateTimeOffset CreatedAt, string JobId)
    {
        public static readonly IComparer<ListKey> NewestFirst = Comparer<ListKey>.Create((x, y) =>
        {
            var byTime = y.CreatedAt.CompareTo(x.CreatedAt);
            return byTime != 0 ? byTime : string.CompareOrdinal(x.JobId, y.JobId);
        });

        public static ListKey Of(JobSnapshot job) => new(job.CreatedAt, job.JobId);
    }
}
