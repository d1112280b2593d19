using Microsoft.AspNetCore.Diagnostics;

namespace Praison.Orleans.Gateway.Http;

/// <summary>
/// Maps the exceptions that are not the server's fault to their status codes in one place: a cluster
/// that cannot be reached or storage that did not confirm a change is a 503 with Retry-After (the
/// request may be retried), a request the
/// server could not read is the 4xx Kestrel chose. Anything else stays a 500.
/// </summary>
internal sealed partial class ClusterUnavailableHandler(
    ILogger<ClusterUnavailableHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(
        HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, detail) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, bad.Message),
            // Storage did not confirm the change: nothing changed, and the request may be retried.
            JobStorageException =>
                (StatusCodes.Status503ServiceUnavailable, "Job storage did not confirm the change; nothing was changed. Retry shortly."),
            // Silo lost, message rejected or expired before placement, connection failed, call timed out (by
            // Orleans or by the resilience pipelines Orleans itself runs, while a silo is declared dead): all retryable.
            OrleansException or TimeoutException or Polly.Timeout.TimeoutRejectedException
                or OperationCanceledException when !context.RequestAborted.IsCancellationRequested =>
                (StatusCodes.Status503ServiceUnavailable, "The job cluster is unavailable; retry shortly."),
            _ => (0, null),
        };
        if (status == 0)
        {
            return false;
        }

        TimeSpan? retryAfter = null;
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            LogUnavailable(logger, exception, context.Request.Path);
            retryAfter = TimeSpan.FromSeconds(1);
        }

        return await context.TryWriteProblemAsync(status, detail!, retryAfter, exception);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cluster unavailable while serving {Path}")]
    private static partial void LogUnavailable(ILogger logger, Exception exception, string path);
}
