namespace Praison.Orleans.Grains.Jobs;

/// <summary>
/// Carries progress reports from work running off the grain scheduler back onto it, in order, so the
/// grain alone touches its state.
/// </summary>
internal sealed class SchedulerProgress(TaskScheduler grainScheduler, Action<JobProgress> apply)
    : IProgress<JobProgress>
{
    public void Report(JobProgress value) =>
        _ = Task.Factory.StartNew(
            () => apply(value), CancellationToken.None, TaskCreationOptions.DenyChildAttach, grainScheduler);
}
