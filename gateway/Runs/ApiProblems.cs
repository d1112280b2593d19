using Microsoft.AspNetCore.Http.HttpResults;

namespace Praison.Orleans.Gateway.Runs;

/// <summary>The API's error bodies: RFC 9457 problem JSON whose <c>detail</c> is the spec's text.</summary>
internal static class ApiProblems
{
    public static ProblemHttpResult Problem(int status, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status);

    public static ProblemHttpResult NotFound(string jobId) =>
        Problem(StatusCodes.Status404NotFound, $"Job not found: {jobId}");

    /// <summary>Writes a problem outside an endpoint (middleware), with <paramref name="status"/> and <paramref name="detail"/>.</summary>
    public static Task WriteProblemAsync(this HttpContext context, int status, string detail)
    {
        context.Response.StatusCode = status;
        return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Detail = detail },
        }).AsTask();
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
