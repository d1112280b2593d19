namespace Praison.Orleans.Grains.Jobs;

/// <summary>
/// Carries progress reports from work running off the grain scheduler back onto it, in order, so the
/// grain alone touches its state. <see cref="DrainAsync"/> lets the grain apply every report made
/// before the work returned, before it records how the work ended.
/// </summary>
internal sealed class SchedulerProgress(TaskScheduler grainScheduler, Action<JobProgress> apply)
    : IProgress<JobProgress>
{
    private Task _last = Task.CompletedTask;

    public void Report(JobProgress value) =>
        Volatile.Write(ref _last, Task.Factory.StartNew(
            () => apply(value), CancellationToken.None, TaskCreationOptions.DenyChildAttach, grainScheduler));

    /// <summary>Completes once every report made so far has been applied (the scheduler runs them in order).</summary>
    public Task DrainAsync() => Volatile.Read(ref _last);
}
