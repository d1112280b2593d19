using System.Diagnostics.CodeAnalysis;

namespace Praison.Orleans.GrainInterfaces;

/// <summary>A submit's answer: the job (created, or the one its idempotency key names), or why there is none.</summary>
[GenerateSerializer, Immutable, Alias("Praison.SubmitReply")]
public sealed record SubmitReply(
    [property: Id(0)] SubmitStatus Status,
    [property: Id(1)] JobSnapshot? Job,
    [property: Id(2)] string? Field,
    [property: Id(3)] string? Error)
{
    /// <summary>Created, or named by its idempotency key: <see cref="Job"/> is it.</summary>
    [MemberNotNullWhen(true, nameof(Job))]
    public bool HasJob => Status is SubmitStatus.Accepted or SubmitStatus.Existing;

    /// <summary>Refused (<see cref="SubmitStatus.Rejected"/> or <see cref="SubmitStatus.Unreadable"/>): <see cref="Field"/> and <see cref="Error"/> say why.</summary>
    [MemberNotNullWhen(true, nameof(Field), nameof(Error))]
    public bool Refused => Status is SubmitStatus.Rejected or SubmitStatus.Unreadable;
}
