using System.Net;

namespace Praison.Orleans.Client;

/// <summary>
/// The job system refused a request: its status code and its RFC 9457 problem (title, detail, and the
/// fields a 422 names), and when to try again where it said (429, 503).
/// </summary>
public sealed class PraisonJobsException : Exception
{
    public PraisonJobsException()
    {
    }

    public PraisonJobsException(string message)
        : base(message)
    {
    }

    public PraisonJobsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public PraisonJobsException(HttpStatusCode status, ProblemDetails? problem, TimeSpan? retryAfter)
        : base(problem?.Detail ?? problem?.Title ?? $"The job system answered {(int)status} {status}.")
    {
        (Status, Problem, RetryAfter) = (status, problem, retryAfter);
    }

    public HttpStatusCode Status { get; }

    /// <summary>The problem JSON the server sent; null when its answer was not problem JSON.</summary>
    public ProblemDetails? Problem { get; }

    /// <summary>The <c>Retry-After</c> the server gave, if any.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>What was wrong with each field of a 422 (empty for other answers).</summary>
    public IReadOnlyDictionary<string, string[]> Errors => Problem?.Errors ?? EmptyErrors;

    private static readonly Dictionary<string, string[]> EmptyErrors = [];
}

/// <summary>An RFC 9457 problem as the job system writes it.</summary>
public sealed record ProblemDetails(string? Type, string? Title, int? Status, string? Detail, Dictionary<string, string[]>? Errors);
