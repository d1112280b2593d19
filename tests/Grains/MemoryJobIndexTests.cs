using Praison.Orleans.Grains.Execution;
using Praison.Orleans.Grains.Index;

namespace Praison.Orleans.Tests.Grains;

/// <summary>
/// Memory mode's index for one tenant (<see cref="TenantJobs"/>): its ordered sets answer pages, totals,
/// stats, the live count and the sweep exactly as a pass over every entry would, and its bound evicts
/// the oldest finished jobs first.
/// </summary>
public sealed class MemoryJobIndexTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly JobsOptions Options = new();

    [Fact]
    public void PagesTotalsAndStats_AreWhatAPassOverEveryEntryFinds()
    {
        var jobs = new TenantJobs();
        var entries = new Dictionary<string, JobIndexEntry>();
        var random = new Random(7);
        for (var i = 0; i < 400; i++)
        {
            // Created out of order, changing status over versions, some removed, sessions, schedules and priorities shared.
            var status = (JobStatus)random.Next(5);
            var entry = Entry(random.Next(300), status, session: random.Next(4) == 0 ? null : $"s{random.Next(5)}",
                schedule: random.Next(3) == 0 ? $"sch{random.Next(3)}" : null, key: random.Next(4) == 0, version: i,
                removed: random.Next(20) == 0, id: $"run_{random.Next(150):x12}");
            if (!entries.TryGetValue(entry.Job.JobId, out var known) || known.Version <= entry.Version)
            {
                entries[entry.Job.JobId] = entry with { Job = entry.Job with { CreatedAt = known?.Job.CreatedAt ?? entry.Job.CreatedAt } };
            }

            jobs.Upsert(entries[entry.Job.JobId], maxRetained: 0);
        }

        var listed = entries.Values.Where(e => !e.Removed).Select(e => e.Job).OrderBy(j => j, NewestFirst.Instance).ToList();
        foreach (var status in Enum.GetValues<JobStatus>().Select(s => (JobStatus?)s).Prepend(null))
        {
            foreach (var session in new[] { null, "s0", "s3", "none" })
            {
                foreach (var (schedule, priority) in new (string?, int?)[] { (null, null), ("sch1", null), (null, 5), (null, 0), ("sch1", -3), (null, 99) })
                {
                    foreach (var (page, size) in new[] { (1, 20), (2, 20), (3, 7), (50, 100), (1, 100) })
                    {
                        var query = new JobListQuery("t", status, session, page, size, schedule, priority);
                        var matching = listed.Where(query.Matches).ToList();

                        var answer = jobs.Query(query, Options, Start);

                        Assert.Equal(matching.Count, answer.Total);
                        Assert.Equal(matching.Skip((page - 1) * size).Take(size).Select(j => j.JobId), answer.Jobs.Select(j => j.JobId));
                        Assert.All(answer.Jobs, j => Assert.True(priority is null || j.Priority == priority));
                    }
                }
            }
        }

        var stats = jobs.Stats(Options, Start);
        Assert.Equal(listed.Count, stats.TotalJobs);
        Assert.Equal(entries.Values.Count(e => !e.Removed && e.HasIdempotencyKey), stats.IdempotencyKeys);
        Assert.All(Enum.GetValues<JobStatus>(), s => Assert.Equal(listed.Count(j => j.Status == s), stats.StatusCounts[s]));
        Assert.Equal(listed.Count(j => !j.Status.IsTerminal()), jobs.LiveCount());
    }

    [Fact]
    public void JobsPastTheirRetention_LeavePagesAndCountsAtOnce_AndAreDueForTheSweep()
    {
        var jobs = new TenantJobs();
        jobs.Upsert(Entry(0, JobStatus.Succeeded), 0); // ended at Start + 1 s
        jobs.Upsert(Entry(60, JobStatus.Failed, id: JobId(1)), 0); // ended an hour later
        jobs.Upsert(Entry(61, JobStatus.Running, id: JobId(2)), 0);
        var later = Start + Options.Retention + TimeSpan.FromMinutes(30);

        var page = jobs.Query(new JobListQuery("t", null, null, 1, 10), Options, later);
        var stats = jobs.Stats(Options, later);
        var due = jobs.Due(Options, later).Select(e => e.Job.JobId).Order();

        Assert.Equal([JobId(2), JobId(1)], page.Jobs.Select(j => j.JobId));
        Assert.Equal(2, page.Total);
        Assert.Equal((2, 0, 1), (stats.TotalJobs, stats.StatusCounts[JobStatus.Succeeded], stats.StatusCounts[JobStatus.Failed]));
        Assert.Equal([JobId(0), JobId(2)], due); // the expired and the live; not the one still kept
        Assert.Equal([JobId(2)], jobs.Due(Options, Start.AddHours(2)).Select(e => e.Job.JobId));
    }

    [Fact]
    public void PastTheBound_TheOldestFinishedAreEvicted_LeavingListsAndCounts_UntilTheirJobsAreRemoved()
    {
        var jobs = new TenantJobs();
        var evicted = new List<string>();
        jobs.Upsert(Entry(0, JobStatus.Running, id: "run_live00000000"), maxRetained: 3);
        for (var i = 1; i <= 5; i++)
        {
            evicted.AddRange(jobs.Upsert(Entry(i, JobStatus.Succeeded), maxRetained: 3));
        }

        // A late version of an evicted job keeps it out of lists; a newer end evicts the next oldest.
        jobs.Upsert(Entry(1, JobStatus.Succeeded, version: 2) with { Removed = true }, maxRetained: 3);
        evicted.AddRange(jobs.Upsert(Entry(6, JobStatus.Failed), maxRetained: 3));

        Assert.Equal([JobId(1), JobId(2), JobId(3)], evicted);
        var page = jobs.Query(new JobListQuery("t", null, null, 1, 10), Options, Start);
        Assert.Equal([JobId(6), JobId(5), JobId(4), "run_live00000000"], page.Jobs.Select(j => j.JobId));
        Assert.Equal((4, 1), (jobs.Stats(Options, Start).TotalJobs, jobs.LiveCount()));
        // Left for the sweep to tell again: not the one already removed for clients (its webhook pending, it is due as such).
        Assert.Equal([JobId(2), JobId(3)], jobs.Evicted().Select(e => e.Job.JobId).Order());
        jobs.Remove(JobId(2)); // as each evicted job's grain removes it
        Assert.Equal([JobId(3)], jobs.Evicted().Select(e => e.Job.JobId));
    }

    [Fact]
    public void ALateWrite_NeverReplacesANewerVersion()
    {
        var jobs = new TenantJobs();
        jobs.Upsert(Entry(1, JobStatus.Succeeded, version: 5), 0);

        jobs.Upsert(Entry(1, JobStatus.Running, version: 3), 0);

        Assert.Equal(JobStatus.Succeeded, Assert.Single(jobs.Query(new JobListQuery("t", null, null, 1, 10), Options, Start).Jobs).Status);
        Assert.Equal(0, jobs.LiveCount());
    }

    private static string JobId(int i) => $"run_{i:x12}";

    /// <summary>A job's priority, fixed by its id as a job's is for its life: 0, 5 or -3.</summary>
    private static int PriorityOf(string jobId) => (Convert.ToInt32(jobId[^4..], 16) % 3) switch { 0 => 0, 1 => 5, _ => -3 };

    private static JobIndexEntry Entry(
        int minute, JobStatus status, string? session = null, string? schedule = null, bool key = false, long version = 1,
        bool removed = false, string? id = null)
    {
        var created = Start.AddMinutes(minute);
        var job = new JobSnapshot(id ?? JobId(minute), status, JobProgress.None, created, created,
            status.IsTerminal() ? created.AddSeconds(1) : null, "recipe:echo", session, null, 1, null, ScheduleId: schedule,
            Priority: PriorityOf(id ?? JobId(minute)));
        return new JobIndexEntry("t", job, version, key, removed);
    }
}
