using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Praison.Orleans.Grains.Hosting;

namespace Praison.Orleans.Grains.Webhooks;

internal static class WebhookHosting
{
    /// <summary>
    /// The webhook client: every connection checked where it is made (<see cref="WebhookConnector"/>), no
    /// redirects followed, a per-attempt timeout inside a retry until a 2xx with exponential backoff (a
    /// refused target or a redirect is not retried: it would answer the same).
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
                pipeline.AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = options.MaxAttempts - 1,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = options.FirstRetryDelay,
                    ShouldHandle = args => ValueTask.FromResult(args.Outcome switch
                    {
                        { Exception: { } exception } => !WebhookSender.IsRefusedTarget(exception),
                        { Result: { IsSuccessStatusCode: false } response } => !WebhookSender.IsRedirect(response),
                        _ => false,
                    }),
                });
                pipeline.AddTimeout(options.AttemptTimeout);
            });
        return services;
    }
}
