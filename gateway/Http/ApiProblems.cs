using Microsoft.AspNetCore.Http.HttpResults;

namespace Praison.Orleans.Gateway.Http;

/// <summary>
/// The API's error answers, in one place: RFC 9457 problem JSON whose <c>detail</c> is the spec's text,
/// from endpoints (a result) and from middleware, the rate limiter and the exception handler (written);
/// <c>Retry-After</c> in whole seconds, at least one.
/// </summary>
internal static class ApiProblems
{
    public static ProblemHttpResult Problem(int status, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status);

    public static ProblemHttpResult NotFound(string jobId) =>
        Problem(StatusCodes.Status404NotFound, $"Job not found: {jobId}");

    public static ProblemHttpResult BatchNotFound(string batchId) =>
        Problem(StatusCodes.Status404NotFound, $"Batch not found: {batchId}");

    /// <summary>
    /// Writes a problem outside an endpoint (middleware, the rate limiter, the exception handler), with
    /// <paramref name="status"/> and <paramref name="detail"/>; <c>Retry-After</c> when <paramref name="retryAfter"/> is given.
    /// False when no problem writer serves the request's <c>Accept</c> (the status alone is sent).
    /// </summary>
    public static Task WriteProblemAsync(this HttpContext context, int status, string detail, TimeSpan? retryAfter = null) =>
        TryWriteProblemAsync(context, status, detail, retryAfter);

    /// <inheritdoc cref="WriteProblemAsync"/>
    public static async Task<bool> TryWriteProblemAsync(
        this HttpContext context, int status, string detail, TimeSpan? retryAfter = null, Exception? exception = null)
    {
        SetRetryAfter(context, retryAfter);
        context.Response.StatusCode = status;
        return await context.RequestServices.GetRequiredService<IProblemDetailsService>().TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = { Status = status, Detail = detail },
        });
    }

    /// <summary>429: a limit reached; <c>Retry-After</c> when waiting helps (a rate, live jobs), none when only deleting does.</summary>
    public static ProblemHttpResult TooManyRequests(HttpContext context, string detail, TimeSpan? retryAfter)
    {
        SetRetryAfter(context, retryAfter);
        return Problem(StatusCodes.Status429TooManyRequests, detail);
    }

    private static void SetRetryAfter(HttpContext context, TimeSpan? retryAfter)
    {
        if (retryAfter is { } wait)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>422 listing each offending field under <c>errors</c>; <c>detail</c> sums them up.</summary>
    public static ProblemHttpResult Validation(IDictionary<string, string[]> errors) =>
        TypedResults.Problem(new HttpValidationProblemDetails(errors)
        {
            Status = StatusCodes.Status422UnprocessableEntity,
            Title = "Validation failed",
            Detail = "Invalid request: " + string.Join("; ",
                errors.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")),
        });
}
