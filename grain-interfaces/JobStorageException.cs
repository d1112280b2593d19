namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// Storage did not confirm a change to a job (it failed, or could not be read back to learn whether it
/// committed): the job is as it was before the request, and the request may be retried. Gateways
/// answer it with 503.
/// </summary>
[GenerateSerializer, Alias("Praison.JobStorageException")]
public sealed class JobStorageException : Exception
{
    public JobStorageException()
    {
    }

    public JobStorageException(string message)
        : base(message)
    {
    }

    public JobStorageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
