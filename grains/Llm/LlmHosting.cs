using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace Praison.Orleans.Grains.Llm;

internal static class LlmHosting
{
    /// <summary>The LLM client, its options (section <c>Llm</c> plus PraisonAI's variables) and its HTTP pipeline.</summary>
    public static IServiceCollection AddLlm(this IServiceCollection services)
    {
        services.AddOptions<LlmOptions>()
            .BindConfiguration(LlmOptions.Section)
            .Configure<IConfiguration>(ApplyEnvironment)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<LlmOptions>>(new ProblemsValidator<LlmOptions>(o => o.Problems()));
        services.AddSingleton<LlmClient>();
        services.AddHttpClient(LlmClient.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            // A stream given up (cancel, timeout) closes its connection at once. By default the handler
            // first reads on for up to 2 s to reuse the connection: the model went on generating (and
            // billing) a cancelled job's tokens, and a test saw the request close 2.1 s after the cancel.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { MaxResponseDrainSize = 0 })
            .AddResilienceHandler("llm-requests", (pipeline, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<LlmOptions>>().Value;
                pipeline.AddRetry(new HttpRetryStrategyOptions
                {
                    // The defaults retry 408, 429 and 5xx and honour Retry-After.
                    MaxRetryAttempts = options.MaxAttempts - 1,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = options.FirstRetryDelay,
                });
            });
        return services;
    }

    private static void ApplyEnvironment(LlmOptions options, IConfiguration configuration)
    {
        options.ApiKey = configuration["OPENAI_API_KEY"] is { Length: > 0 } key ? key : options.ApiKey;
        options.BaseUrl = configuration["OPENAI_BASE_URL"] is { Length: > 0 } url ? url
            : configuration["OPENAI_API_BASE"] is { Length: > 0 } apiBase ? apiBase
            : options.BaseUrl;
        options.Model = configuration["OPENAI_MODEL_NAME"] is { Length: > 0 } model ? model : options.Model;
    }
}
