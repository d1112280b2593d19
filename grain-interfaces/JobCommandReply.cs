namespace Praison.Orleans.GrainInterfaces;

[GenerateSerializer, Immutable, Alias("Praison.JobCommandReply")]
public sealed record JobCommandReply(
    [property: Id(0)] JobCommandStatus Status,
    [property: Id(1)] JobSnapshot? Job);
