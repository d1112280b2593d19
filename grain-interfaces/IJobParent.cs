namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// What a job may depend on (<see cref="JobSpec.DependsOn"/>): a job (<see cref="IJobGrain"/>) or a batch
/// (<see cref="IBatchGrain"/>), reached by its id (<see cref="JobKeys.Parent"/>). A dependant records
/// itself before it is created, learns how the parent ended, and says when it no longer waits.
/// </summary>
[Alias("Praison.IJobParent")]
public interface IJobParent : IGrainWithStringKey
{
    /// <summary>
    /// Records that job <paramref name="dependantId"/> (of the same tenant) depends on this one, before that
    /// job is created: while it waits, this one is kept (past its retention or a delete, hidden from
    /// clients) so it can learn how this one ended. Repeating it changes nothing.
    /// </summary>
    [Alias("AddDependant")]
    Task<DependantStatus> AddDependantAsync(string dependantId);

    /// <summary>
    /// How this parent ended (a batch: once every one of its jobs has), once it has: at once if it already
    /// has, else as soon as it does, or null after about <paramref name="wait"/> if it has not yet (ask
    /// again). <see cref="JobEnd.Missing"/> when there is no such parent. Served between its other calls,
    /// so any number may wait at once.
    /// </summary>
    [Alias("AwaitEnd"), AlwaysInterleave]
    Task<JobEnd?> AwaitEndAsync(TimeSpan wait, CancellationToken cancellationToken = default);

    /// <summary>
    /// Job <paramref name="dependantId"/> no longer waits on this one (it started or ended): if this one
    /// was removed and kept only for its dependants, it may go now. One-way; lost, the sweep does the same.
    /// </summary>
    [Alias("DependantSettled"), OneWay]
    Task DependantSettledAsync(string dependantId);
}
