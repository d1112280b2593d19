namespace Praison.Orleans.GrainInterfaces;

/// <summary>A tenant's stored jobs, counted.</summary>
[GenerateSerializer, Immutable, Alias("Praison.JobStoreStats")]
public sealed record JobStoreStats(
    [property: Id(0)] int TotalJobs,
    [property: Id(1)] int IdempotencyKeys,
    [property: Id(2)] IReadOnlyDictionary<JobStatus, int> StatusCounts);
