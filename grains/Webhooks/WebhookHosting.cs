using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Praison.Orleans.Grains.Hosting;

namespace Praison.Orleans.Grains.Webhooks;

internal static class WebhookHosting
{
    /// <summary>The webhook client: per-attempt timeout inside a retry until a 2xx, exponential backoff.</summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services)
    {
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebhookOptions>>(new ProblemsValidator<WebhookOptions>(o => o.Problems()));
        services.AddSingleton<WebhookSender>();
        services.AddHttpClient(WebhookSender.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .AddResilienceHandler("webhook-delivery", (pipeline, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<WebhookOptions>>().Value;
                pipeline.AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = options.MaxAttempts - 1,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = options.FirstRetryDelay,
                    ShouldHandle = args => ValueTask.FromResult(
                        args.Outcome.Exception is not null || args.Outcome.Result is { IsSuccessStatusCode: false }),
                });
                pipeline.AddTimeout(options.AttemptTimeout);
            });
        return services;
    }
}
