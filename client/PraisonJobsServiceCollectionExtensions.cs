using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace Praison.Orleans.Client;

/// <summary>Registers <see cref="PraisonJobsClient"/> on <c>IHttpClientFactory</c>.</summary>
public static class PraisonJobsServiceCollectionExtensions
{
    /// <summary>The name of the client's <see cref="HttpClient"/> (and its resilience pipeline).</summary>
    public const string HttpClientName = "Praison.Orleans.Client";

    /// <summary>
    /// Adds <see cref="PraisonJobsClient"/> (transient, on a pooled <see cref="HttpClient"/>) configured by
    /// <paramref name="configure"/>, validated when first made. Requests the server refused for now — 429 or
    /// 503, which change nothing — are sent again after their <c>Retry-After</c>, up to
    /// <see cref="PraisonJobsClientOptions.MaxRetries"/> times; so is a read, or a submit with an idempotency
    /// key, that met a transport error (a submit without one is not: it may have made its job).
    /// </summary>
    public static IHttpClientBuilder AddPraisonJobsClient(this IServiceCollection services, Action<PraisonJobsClientOptions> configure)
    {
        services.AddOptions<PraisonJobsClientOptions>().Configure(configure).Validate(o => !o.Problems().Any(), "PraisonJobsClientOptions are invalid").ValidateOnStart();
        var builder = services.AddHttpClient<PraisonJobsClient>(HttpClientName, (provider, http) =>
        {
            var options = provider.GetRequiredService<IOptions<PraisonJobsClientOptions>>().Value;
            if (options.Problems().FirstOrDefault() is { } problem)
            {
                throw new OptionsValidationException(nameof(PraisonJobsClientOptions), typeof(PraisonJobsClientOptions), [problem]);
            }

            http.BaseAddress = WithTrailingSlash(options.BaseAddress!);
            http.Timeout = Timeout.InfiniteTimeSpan; // streams and waits are long; each call's token bounds it
            if (options.ApiKey is { Length: > 0 } key)
            {
                http.DefaultRequestHeaders.Add("X-API-Key", key);
            }
        });
        builder.AddResilienceHandler(HttpClientName, (pipeline, context) =>
        {
            var retries = context.ServiceProvider.GetRequiredService<IOptions<PraisonJobsClientOptions>>().Value.MaxRetries;
            if (retries > 0)
            {
                pipeline.AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = retries,
                    ShouldRetryAfterHeader = true,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = TimeSpan.FromMilliseconds(200),
                    ShouldHandle = arguments => ValueTask.FromResult(ShouldRetry(arguments.Outcome, arguments.Context.GetRequestMessage())),
                });
            }
        });
        return builder;
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

    private static Uri WithTrailingSlash(Uri address) =>
        address.AbsoluteUri.EndsWith('/') ? address : new Uri(address.AbsoluteUri + "/");
}
