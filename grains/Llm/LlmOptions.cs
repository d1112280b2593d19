namespace Praison.Orleans.Grains.Llm;

/// <summary>
/// The OpenAI-compatible chat-completions endpoint prompt jobs run on (OpenAI, Azure OpenAI, Ollama,
/// vLLM, LM Studio). Section <c>Llm</c>, overridden by PraisonAI's environment variables.
/// </summary>
public sealed class LlmOptions
{
    public const string Section = "Llm";

    /// <summary>API key. Default: none, or <c>OPENAI_API_KEY</c>.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Base URL, e.g. <c>http://127.0.0.1:11434/v1</c>. Default: OpenAI's, or <c>OPENAI_BASE_URL</c> / <c>OPENAI_API_BASE</c>.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>Model name. Default: gpt-4o-mini, or <c>OPENAI_MODEL_NAME</c>.</summary>
    public string Model { get; set; } = "gpt-4o-mini";

    /// <summary>Attempts per request; 429 and 5xx answers are retried with backoff, honouring Retry-After. Default: 4.</summary>
    public int MaxAttempts { get; set; } = 4;

    /// <summary>Backoff before the first retry (doubling after) when the server names no Retry-After. Default: 1 second.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>True when an endpoint is configured (a key, a base URL, or both).</summary>
    public bool Configured => !string.IsNullOrWhiteSpace(ApiKey) || !string.IsNullOrWhiteSpace(BaseUrl);

    public IEnumerable<string> Problems()
    {
        if (BaseUrl is { Length: > 0 } url && !Uri.TryCreate(url, UriKind.Absolute, out _))
        {
            yield return $"Llm:BaseUrl (OPENAI_BASE_URL) '{url}' is not an absolute URL.";
        }

        if (MaxAttempts is < 1 or > 10)
        {
            yield return $"Llm:MaxAttempts must be 1–10, not {MaxAttempts}.";
        }

        if (FirstRetryDelay <= TimeSpan.Zero)
        {
            yield return "Llm:FirstRetryDelay must be positive.";
        }
    }
}
