using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Praison.Orleans.Client;

/// <summary>Registers <see cref="PraisonJobsClient"/> on <c>IHttpClientFactory</c>.</summary>
public static class PraisonJobsServiceCollectionExtensions
{
    /// <summary>The name of the client's <see cref="HttpClient"/>, to configure it further.</summary>
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
        // No log lines per request by default (the factory's four at Information cost a tenth of a status
        // read); an application that wants them adds them back with AddDefaultLogger() on the returned builder.
        builder.RemoveAllLoggers();
        builder.AddHttpMessageHandler(provider => new RetryHandler(provider.GetRequiredService<IOptions<PraisonJobsClientOptions>>().Value.MaxRetries));
        return builder;
    }

    private static Uri WithTrailingSlash(Uri address) =>
        address.AbsoluteUri.EndsWith('/') ? address : new Uri(address.AbsoluteUri + "/");
}
