using System.Diagnostics.CodeAnalysis;

namespace Praison.Orleans.GrainInterfaces;

/// <summary>How a cancel or delete ended, with the job as it then was (none when there was no job).</summary>
[GenerateSerializer, Immutable, Alias("Praison.JobCommandReply")]
public sealed record JobCommandReply(
    [property: Id(0)] JobCommandStatus Status,
    [property: Id(1)] JobSnapshot? Job)
{
    /// <summary>There was a job: <see cref="Job"/> is it.</summary>
    [MemberNotNullWhen(true, nameof(Job))]
    public bool Found => Status != JobCommandStatus.NotFound;
}
