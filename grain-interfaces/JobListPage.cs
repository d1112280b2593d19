namespace Praison.Orleans.GrainInterfaces;

[GenerateSerializer, Immutable, Alias("Praison.JobListPage")]
public sealed record JobListPage(
    [property: Id(0)] IReadOnlyList<JobSnapshot> Jobs,
    [property: Id(1)] int Total);
