namespace Praison.Orleans.Gateway.Http;

/// <summary>
/// Limits of the HTTP API, enforced by each gateway. Section <c>Api</c>, which also holds the live-jobs
/// quota (<see cref="LiveJobsOptions"/>, read by silos too).
/// </summary>
public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>Largest request body accepted, in bytes; larger ones get 413. Default: 1 MiB.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Largest batch body (<c>POST /api/v1/batches</c>), in bytes; larger ones get 413. Default: 32 MiB.</summary>
    public long MaxBatchBodyBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>Longest <c>prompt</c>, in characters; longer is 422. Default: 262,144 (256 Ki).</summary>
    public int MaxPromptChars { get; set; } = 256 * 1024;

    /// <summary>Longest <c>agent_yaml</c>, in characters; longer is 422. Default: 262,144 (256 Ki).</summary>
    public int MaxAgentYamlChars { get; set; } = 256 * 1024;

    /// <summary>Longest <c>recipe_config</c> or <c>config</c>, as JSON text; longer is 422. Default: 65,536 (64 Ki).</summary>
    public int MaxConfigChars { get; set; } = 64 * 1024;

    /// <summary>
    /// Submits one tenant may make per second through this gateway, on average; past that (and the
    /// burst) a submit is 429 with <c>Retry-After</c>. 0: no limit. Default: 200 where API keys are
    /// configured (tenants, or a key that might leak); none without keys — a keyless server is one
    /// developer's own, and a limit would cap it below what it can do (<see cref="SubmitRate"/>).
    /// </summary>
    public double? SubmitsPerSecondPerTenant { get; set; }

    /// <summary>Submits one tenant may make at once before the rate applies. Default: twice the rate (400 by default).</summary>
    public int? SubmitBurstPerTenant { get; set; }

    /// <summary>The rate when keys are configured and none is set.</summary>
    public const double KeyedSubmitsPerSecond = 200;

    /// <summary>The submit rate in force (per second, 0: none) and its burst, on a gateway with or without keys.</summary>
    public (double PerSecond, int Burst) SubmitRate(bool keysConfigured)
    {
        var rate = SubmitsPerSecondPerTenant ?? (keysConfigured ? KeyedSubmitsPerSecond : 0);
        return (rate, SubmitBurstPerTenant ?? (int)Math.Clamp(Math.Ceiling(rate * 2), 1, int.MaxValue));
    }

    public IEnumerable<string> Problems()
    {
        if (MaxBatchBodyBytes < MaxRequestBodyBytes)
        {
            yield return "Api:MaxBatchBodyBytes must be at least Api:MaxRequestBodyBytes.";
        }

        if (MaxRequestBodyBytes <= 0 || MaxPromptChars <= 0 || MaxAgentYamlChars <= 0 || MaxConfigChars <= 0)
        {
            yield return "Api:MaxRequestBodyBytes, Api:MaxPromptChars, Api:MaxAgentYamlChars and Api:MaxConfigChars must be positive.";
        }

        if (SubmitsPerSecondPerTenant is < 0 or > 1_000_000 || SubmitBurstPerTenant < 1)
        {
            yield return "Api:SubmitsPerSecondPerTenant must be 0 (no limit) to 1,000,000, and Api:SubmitBurstPerTenant at least 1.";
        }
    }
}
