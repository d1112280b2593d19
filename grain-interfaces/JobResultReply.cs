using System.Diagnostics.CodeAnalysis;

namespace Praison.Orleans.GrainInterfaces;

/// <summary>A result request's answer: the outcome of a finished job, or the job still running, or none.</summary>
[GenerateSerializer, Immutable, Alias("Praison.JobResultReply")]
public sealed record JobResultReply(
    [property: Id(0)] JobCommandStatus Status,
    [property: Id(1)] JobSnapshot? Job,
    [property: Id(2)] JobOutcome? Outcome)
{
    /// <summary>There was a job: <see cref="Job"/> is it.</summary>
    [MemberNotNullWhen(true, nameof(Job))]
    public bool Found => Status != JobCommandStatus.NotFound;

    /// <summary>The job has finished: <see cref="Outcome"/> is its result.</summary>
    [MemberNotNullWhen(true, nameof(Job), nameof(Outcome))]
    public bool Finished => Status == JobCommandStatus.Done;
}
