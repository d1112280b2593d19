namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// When a job with <c>depends_on</c> runs (its <c>run_if</c>). Wire contract: never renumber; append new members.
/// </summary>
[GenerateSerializer, Alias("Praison.RunIf")]
public enum RunIf
{
    /// <summary>Once every job it depends on has succeeded; cancelled as soon as one ends otherwise.</summary>
    Succeeded = 0,

    /// <summary>Once every job it depends on has ended, whatever its status.</summary>
    Finished = 1,

    /// <summary>As soon as one job it depends on has succeeded; cancelled if all end and none did.</summary>
    AnySucceeded = 2,
}

/// <summary>
/// How a job ended, as a job that depends on it learns it: its status (null: there is no such job, or no
/// longer), its result (JSON text) when it succeeded, its error when it failed. A batch's end is a
/// job's: succeeded when all its jobs did (its result: theirs, by job id), else failed or cancelled,
/// with <see cref="SomeSucceeded"/> when one of them succeeded all the same.
/// </summary>
[GenerateSerializer, Immutable, Alias("Praison.JobEnd")]
public sealed record JobEnd(
    [property: Id(0)] string JobId,
    [property: Id(1)] JobStatus? Status,
    [property: Id(2)] string? ResultJson,
    [property: Id(3)] string? Error,
    [property: Id(4)] bool SomeSucceeded = false)
{
    /// <summary>The end of a job that does not exist (never did, or was removed).</summary>
    public static JobEnd Missing(string jobId) => new(jobId, null, null, null);

    public bool Succeeded => Status == JobStatus.Succeeded;
}

/// <summary>How a job took a new dependant (<see cref="IJobParent.AddDependantAsync"/>).</summary>
[GenerateSerializer, Alias("Praison.DependantStatus")]
public enum DependantStatus
{
    /// <summary>Recorded (or already was).</summary>
    Added = 0,

    /// <summary>No such job (never submitted, deleted, or past its retention).</summary>
    NotFound = 1,

    /// <summary>The job has <see cref="JobSpec.MaxDependants"/> dependants already.</summary>
    Full = 2,
}
