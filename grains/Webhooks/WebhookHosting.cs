using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace Praison.Orleans.Grains.Webhooks;

internal static class WebhookHosting
{
    /// <summary>
    /// The webhook client: every connection checked where it is made (<see cref="WebhookConnector"/>), no
    /// redirects followed, a per-attempt timeout inside a retry until a 2xx with exponential backoff or the
    /// receiver's <c>Retry-After</c> (a refused target, a redirect or a 4xx that says the request is refused
    /// is not retried: it would answer the same; a <c>Retry-After</c> past the gap between rounds ends the
    /// round, and the next one starts no earlier).
    /// </summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services)
    {
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebhookOptions>>(new ProblemsValidator<WebhookOptions>(o => o.Problems()));
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<WebhookConnector>();
        services.AddHttpClient(WebhookSender.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(provider => new SocketsHttpHandler
            {
                // A redirect is a failed attempt: following it would send the job's outcome somewhere unchecked.
                AllowAutoRedirect = false,
                ConnectCallback = provider.GetRequiredService<WebhookConnector>().ConnectAsync,
            })
            .AddResilienceHandler("webhook-delivery", (pipeline, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<WebhookOptions>>().Value;
                var sender = context.ServiceProvider.GetRequiredService<WebhookSender>();
                pipeline.AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = options.MaxAttempts - 1,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = options.FirstRetryDelay,
                    ShouldHandle = args => ValueTask.FromResult(args.Outcome switch
                    {
                        { Exception: { } exception } => !WebhookSender.IsRefusedTarget(exception),
                        { Result: { } response } => sender.RetriesWithinTheRound(response),
                        _ => false,
                    }),
                });
                pipeline.AddTimeout(options.AttemptTimeout);
            });
        return services;
    }
}
