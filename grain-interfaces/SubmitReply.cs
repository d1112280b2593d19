namespace Praison.Orleans.GrainInterfaces;

[GenerateSerializer, Immutable, Alias("Praison.SubmitReply")]
public sealed record SubmitReply(
    [property: Id(0)] SubmitStatus Status,
    [property: Id(1)] JobSnapshot? Job,
    [property: Id(2)] string? Field,
    [property: Id(3)] string? Error);
