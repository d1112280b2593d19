namespace Praison.Orleans.GrainInterfaces;

/// <summary>How far a job has come. Percentage is clamped to 0–100 and never goes backwards.</summary>
[GenerateSerializer, Immutable, Alias("Praison.JobProgress")]
public sealed record JobProgress(
    [property: Id(0)] double Percentage,
    [property: Id(1)] string? CurrentStep,
    [property: Id(2)] int StepsCompleted,
    [property: Id(3)] int? StepsTotal)
{
    /// <summary>
    /// No progress yet. A new instance each time: a shared one would be a trap, as a deserializer may
    /// fill the instance a default initializer left in place.
    /// </summary>
    public static JobProgress None => new(0, null, 0, null);

    /// <summary>
    /// Folds a newer report into this one without ever moving backwards: percentage and steps take
    /// the maximum, the step name and total take the newer value when it has one.
    /// </summary>
    public JobProgress Advance(JobProgress report) => new(
        Math.Max(Percentage, Math.Clamp(double.IsNaN(report.Percentage) ? 0 : report.Percentage, 0, 100)),
        report.CurrentStep ?? CurrentStep,
        Math.Max(StepsCompleted, report.StepsCompleted),
        report.StepsTotal ?? StepsTotal);
}
