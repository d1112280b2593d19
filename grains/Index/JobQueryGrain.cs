namespace Praison.Orleans.Grains.Index;

/// <summary>Answers list and stats queries on whichever silo receives them, from the job index.</summary>
[StatelessWorker]
public sealed class JobQueryGrain(IJobIndex index, IGrainFactory grains) : Grain, IJobQueryGrain
{
    /// <summary>
    /// The index page, with live jobs refreshed from their grains (the index holds them as of their
    /// last transition, without the progress since); jobs deleted meanwhile drop out.
    /// </summary>
    public async Task<JobListPage> ListAsync(JobListQuery query)
    {
        var page = await ReadAsync(() => index.QueryAsync(query));
        var jobs = await Task.WhenAll(page.Jobs.Select(job => job.Status.IsTerminal()
            ? Task.FromResult<JobSnapshot?>(job)
            : grains.Job(query.Tenant, job.JobId).GetStatusAsync()));
        return new JobListPage(jobs.OfType<JobSnapshot>().ToList(), page.Total);
    }

    public Task<JobStoreStats> StatsAsync(string tenant) => ReadAsync(() => index.StatsAsync(tenant));

    public Task<int> LiveCountAsync(string tenant) => ReadAsync(() => index.LiveCountAsync(tenant));

    /// <summary>
    /// Reads the index; a failure of its storage leaves as <see cref="JobStorageException"/>, which every
    /// silo and gateway can carry (a storage client's own exception type may not cross), answered 503.
    /// </summary>
    private static async Task<T> ReadAsync<T>(Func<Task<T>> read)
    {
        try
        {
            return await read();
        }
        catch (Exception exception) when (exception is not (OrleansException or JobStorageException or TimeoutException))
        {
            throw new JobStorageException($"The job index could not be read: {exception.GetType().Name}.");
        }
    }
}
