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
    /// The longest step name kept; a longer one (a recipe's, or an agents file's task name) is cut: it
    /// goes into every progress event, the record and the index entry.
    /// </summary>
    public const int MaxStepChars = 1000;

    /// <summary>
    /// Folds a newer report into this one without ever moving backwards: percentage and steps take
    /// the maximum, the step name (cut to <see cref="MaxStepChars"/>) and total take the newer value
    /// when it has one.
    /// </summary>
    public JobProgress Advance(JobProgress report) => new(
        Math.Max(Percentage, Math.Clamp(double.IsNaN(report.Percentage) ? 0 : report.Percentage, 0, 100)),
        Bounded(report.CurrentStep) ?? CurrentStep,
        Math.Max(StepsCompleted, report.StepsCompleted),
        report.StepsTotal ?? StepsTotal);

    private static string? Bounded(string? step) =>
        step is not { Length: > MaxStepChars } ? step
        : char.IsHighSurrogate(step[MaxStepChars - 1]) ? step[..(MaxStepChars - 1)]
        : step[..MaxStepChars];
}
