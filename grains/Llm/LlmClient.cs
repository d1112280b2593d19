using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using OpenAI;
using Praison.Orleans.Grains.Recipes;

namespace Praison.Orleans.Grains.Llm;

/// <summary>
/// Runs prompts on the configured OpenAI-compatible endpoint through Microsoft.Extensions.AI's
/// <see cref="IChatClient"/>. Requests go through the <see cref="HttpClientName"/> client, whose
/// resilience pipeline retries 429 and 5xx answers (honouring Retry-After); the job's token aborts the
/// HTTP request; the streamed answer feeds progress; token usage goes into the result's metrics.
/// </summary>
public sealed class LlmClient
{
    public const string HttpClientName = "llm";

    /// <summary>
    /// The meter and activity source of Microsoft.Extensions.AI's OpenTelemetry chat-client
    /// instrumentation: <c>gen_ai.client.token.usage</c> and <c>gen_ai.client.operation.duration</c>,
    /// and a span per LLM call (prompts and answers are not recorded).
    /// </summary>
    public const string TelemetrySourceName = "Praison.Orleans.Llm";

    /// <summary>The error a job gets when it needs an LLM and none is configured.</summary>
    public const string NotConfigured =
        "No LLM configured: set OPENAI_API_KEY (and optionally OPENAI_BASE_URL or OPENAI_API_BASE, " +
        "and OPENAI_MODEL_NAME) to run prompt and agents jobs, or submit with a recipe_name.";

    private const int ChunksPerProgressReport = 8;

    private readonly IChatClient? _chat;
    private readonly string _model;

    public LlmClient(IOptions<LlmOptions> options, IHttpClientFactory http)
    {
        var settings = options.Value;
        _model = settings.Model;
        if (!settings.Configured)
        {
            return;
        }

        var clientOptions = new OpenAIClientOptions
        {
            Transport = new HttpClientPipelineTransport(http.CreateClient(HttpClientName)),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0), // retries are the HTTP pipeline's
            NetworkTimeout = Timeout.InfiniteTimeSpan,            // the job's timeout and token bound it
        };
        if (settings.BaseUrl is { Length: > 0 } baseUrl)
        {
            clientOptions.Endpoint = new Uri(baseUrl);
        }

        var key = string.IsNullOrWhiteSpace(settings.ApiKey) ? "not-needed" : settings.ApiKey;
        _chat = new OpenAIClient(new ApiKeyCredential(key), clientOptions).GetChatClient(_model).AsIChatClient()
            .AsBuilder()
            .UseOpenTelemetry(sourceName: TelemetrySourceName)
            .Build();
    }

    /// <summary>
    /// One streamed chat completion of <paramref name="prompt"/> (after <paramref name="systemPrompt"/>,
    /// when given). Fails the job with a clear message when no LLM is configured or the server refuses.
    /// </summary>
    public async Task<RecipeOutput> CompleteAsync(
        string prompt, string? systemPrompt, IProgress<JobProgress> progress, CancellationToken cancellationToken)
    {
        progress.Report(new JobProgress(10, "calling the model", 0, null));
        var (text, usage) = await ChatAsync(
            systemPrompt, prompt,
            chunks => progress.Report(new JobProgress(Math.Min(90, 10 + chunks / ChunksPerProgressReport), "generating", chunks, null)),
            cancellationToken);
        progress.Report(new JobProgress(100, "done", 1, 1));
        return new RecipeOutput(JsonValue.Create(text), Metrics(usage));
    }

    /// <summary>
    /// One streamed completion: the system message (when given) and the user message; calls
    /// <paramref name="onChunks"/> every few chunks with the count so far.
    /// </summary>
    public async Task<(string Text, UsageDetails? Usage)> ChatAsync(
        string? system, string user, Action<int> onChunks, CancellationToken cancellationToken)
    {
        if (_chat is null)
        {
            throw new RecipeFailedException(NotConfigured);
        }

        List<ChatMessage> messages = system is { Length: > 0 }
            ? [new(ChatRole.System, system), new(ChatRole.User, user)]
            : [new(ChatRole.User, user)];
        var text = new StringBuilder();
        UsageDetails? usage = null;
        var chunks = 0;
        try
        {
            await foreach (var update in _chat.GetStreamingResponseAsync(messages, cancellationToken: cancellationToken))
            {
                text.Append(update.Text);
                usage = update.Contents.OfType<UsageContent>().LastOrDefault()?.Details ?? usage;
                if (++chunks % ChunksPerProgressReport == 0)
                {
                    onChunks(chunks);
                }
            }
        }
        catch (ClientResultException refused)
        {
            throw new RecipeFailedException($"The LLM server refused the request (HTTP {refused.Status}): {refused.Message}");
        }

        return (text.ToString(), usage);
    }

    /// <summary>The result's metrics: the model and the tokens used (summed over several calls when given several).</summary>
    public JsonObject Metrics(params UsageDetails?[] usages) => new()
    {
        ["model"] = _model,
        ["prompt_tokens"] = usages.Sum(u => u?.InputTokenCount),
        ["completion_tokens"] = usages.Sum(u => u?.OutputTokenCount),
        ["total_tokens"] = usages.Sum(u => u?.TotalTokenCount),
    };

    /// <summary>The <c>system_prompt</c> string of a job's <c>config</c>, if any.</summary>
    public static string? SystemPromptOf(string configJson)
    {
        using var config = JsonDocument.Parse(configJson);
        return config.RootElement.TryGetProperty("system_prompt", out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
    }
}
