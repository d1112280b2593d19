namespace Praison.Orleans.GrainInterfaces;

[GenerateSerializer, Immutable, Alias("Praison.SiloExecutorStats")]
public sealed record SiloExecutorStats(
    [property: Id(0)] int RunningJobs,
    [property: Id(1)] int MaxConcurrent,
    [property: Id(2)] int DefaultTimeoutSeconds);
