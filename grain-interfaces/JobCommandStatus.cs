namespace Praison.Orleans.GrainInterfaces;

/// <summary>How a cancel, delete or result request ended. Wire contract: never renumber.</summary>
[GenerateSerializer, Alias("Praison.JobCommandStatus")]
public enum JobCommandStatus
{
    Done = 0,
    NotFound = 1,

    /// <summary>Cancel of a terminal job, delete or result of a non-terminal one.</summary>
    WrongState = 2,
}
