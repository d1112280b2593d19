using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace Praison.Orleans.Client;

/// <summary>
/// Sends a request again when the server refused it for now (429 or 503: it changed nothing) after its
/// <c>Retry-After</c>, and after a transport failure where a repeat cannot make a second job: a Polly retry
/// with Microsoft.Extensions.Http.Resilience's <see cref="HttpRetryStrategyOptions"/>. A request answered
/// at once — nearly every one — does not enter the pipeline: its first answer is looked at here, and only a
/// refused or failed one hands over to the retries. That, and a pipeline without telemetry, keep the
/// client within a few percent of a raw <see cref="HttpClient"/> on its cheapest call (the resilience
/// handler's three telemetry events per call cost more than the call's own client work).
/// </summary>
internal sealed class RetryHandler(int maxRetries) : DelegatingHandler
{
    private static readonly ResiliencePropertyKey<HttpRequestMessage> Request = new("Praison.Orleans.Client.Request");

    private readonly ResiliencePipeline<HttpResponseMessage>? _retries = maxRetries <= 0 ? null
        : new ResiliencePipelineBuilder<HttpResponseMessage>().AddRetry(new HttpRetryStrategyOptions
        {
            MaxRetryAttempts = maxRetries,
            ShouldRetryAfterHeader = true,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
            ShouldHandle = arguments => ValueTask.FromResult(ShouldRetry(arguments.Outcome, arguments.Context.Properties.GetValue(Request, null!))),
        }).Build();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (_retries is null)
        {
            return await base.SendAsync(request, cancellationToken);
        }

        Outcome<HttpResponseMessage> first;
        try
        {
            first = Outcome.FromResult(await base.SendAsync(request, cancellationToken));
        }
        catch (HttpRequestException exception)
        {
            first = Outcome.FromException<HttpResponseMessage>(exception);
        }

        if (!ShouldRetry(first, request))
        {
            first.ThrowIfException();
            return first.Result!;
        }

        return await RetryAsync(_retries, request, first, cancellationToken);
    }

    /// <summary>The retries after <paramref name="first"/>: the pipeline's first attempt is that answer, each next one sends again.</summary>
    private async Task<HttpResponseMessage> RetryAsync(
        ResiliencePipeline<HttpResponseMessage> retries, HttpRequestMessage request, Outcome<HttpResponseMessage> first, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(Request, request);
        var answered = new Outcome<HttpResponseMessage>?(first);
        try
        {
            var outcome = await retries.ExecuteOutcomeAsync(
                async (context, _) =>
                {
                    if (answered is { } had)
                    {
                        answered = null;
                        return had;
                    }

                    try
                    {
                        return Outcome.FromResult(await base.SendAsync(request, context.CancellationToken));
                    }
                    catch (Exception exception) when (exception is not OperationCanceledException)
                    {
                        return Outcome.FromException<HttpResponseMessage>(exception);
                    }
                },
                context, 0);
            outcome.ThrowIfException();
            return outcome.Result!;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>
    /// 429 and 503 always (the server changed nothing); a transport failure only where sending again
    /// cannot make a second job: a read, a delete, a cancel, or a submit with an idempotency key.
    /// </summary>
    private static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, HttpRequestMessage? request) => outcome switch
    {
        { Result.StatusCode: HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable } => true,
        { Exception: HttpRequestException } => request is not null
            && (request.Method != HttpMethod.Post || request.Headers.Contains("Idempotency-Key") || request.RequestUri?.AbsolutePath.EndsWith("/cancel", StringComparison.Ordinal) == true),
        _ => false,
    };
}
