namespace Praison.Orleans.GrainInterfaces;

/// <summary>Why a submit was or was not accepted. Wire contract: never renumber.</summary>
[GenerateSerializer, Alias("Praison.SubmitStatus")]
public enum SubmitStatus
{
    /// <summary>A new job was created and queued.</summary>
    Accepted = 0,

    /// <summary>A job with this id already exists; nothing was changed. Pick another id.</summary>
    IdTaken = 1,

    /// <summary>The spec names something this cluster cannot run (e.g. an unknown recipe).</summary>
    Rejected = 2,

    /// <summary>The idempotency key already names a job; that job is returned and nothing is created.</summary>
    Existing = 3,

    /// <summary>The spec points where the silo may not read (an <c>agent_file</c> outside its root: 400). A missing file is accepted, and its job fails.</summary>
    Unreadable = 4,
}
