namespace Praison.Orleans.GrainInterfaces;

[GenerateSerializer, Immutable, Alias("Praison.JobResultReply")]
public sealed record JobResultReply(
    [property: Id(0)] JobCommandStatus Status,
    [property: Id(1)] JobSnapshot? Job,
    [property: Id(2)] JobOutcome? Outcome);
