namespace Praison.Orleans.GrainInterfaces;

/// <summary>The lifecycle of a job. Wire contract: never renumber; append new members.</summary>
[GenerateSerializer, Alias("Praison.JobStatus")]
public enum JobStatus
{
    Queued = 0,
    Running = 1,
    Succeeded = 2,
    Failed = 3,
    Cancelled = 4,
}
