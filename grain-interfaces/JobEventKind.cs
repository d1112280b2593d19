namespace Praison.Orleans.GrainInterfaces;

/// <summary>What a stream event reports. Wire contract: never renumber; append new members.</summary>
[GenerateSerializer, Alias("Praison.JobEventKind")]
public enum JobEventKind
{
    Status = 0,
    Progress = 1,
    Result = 2,
    Error = 3,
    Cancelled = 4,
}
