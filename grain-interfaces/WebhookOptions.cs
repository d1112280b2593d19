namespace Praison.Orleans.GrainInterfaces;

/// <summary>How job webhooks are delivered (docs/api.md: Webhooks). Section <c>Webhooks</c>.</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>
    /// When set, each delivery carries <c>X-Praison-Signature: sha256=&lt;hex HMAC-SHA256 of the body&gt;</c>
    /// keyed with this secret. Default: none (unsigned).
    /// </summary>
    public string? SigningSecret { get; set; }

    /// <summary>
    /// Allows deliveries to loopback, private, link-local and other non-public addresses (a receiver on
    /// this machine or network). Checked where each connection is made. Default: false.
    /// </summary>
    public bool AllowPrivateTargets { get; set; }

    /// <summary>Attempts per delivery, the first included; retried until a 2xx. Default: 6.</summary>
    public int MaxAttempts { get; set; } = 6;

    /// <summary>Wait before the first retry; each next one doubles it (with jitter). Default: 2 seconds.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Time limit of one attempt. Default: 10 seconds.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long after a job ends its webhook keeps being retried: a round of <see cref="MaxAttempts"/>
    /// attempts that fails is tried again at a later sweep, until this much time has passed since the
    /// job ended. Default: 24 hours.
    /// </summary>
    public TimeSpan RetryHorizon { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Wait after the first failed round; it doubles after each next one. Default: 1 minute.</summary>
    public TimeSpan FirstRoundDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest wait between two rounds. Default: 1 hour.</summary>
    public TimeSpan LongestRoundDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The longest result a webhook carries, as JSON text in characters; a longer one is left out
    /// (<c>result: null</c>) and <c>result_url</c> links to the job's result instead, so a delivery and its
    /// retries never carry megabytes to whatever URL a client named. Default: 65,536 (64 Ki).
    /// </summary>
    public int MaxResultChars { get; set; } = 64 * 1024;

    public IEnumerable<string> Problems()
    {
        if (MaxAttempts is < 5 or > 20)
        {
            yield return $"Webhooks:MaxAttempts must be 5–20 (the spec asks for at least 5), not {MaxAttempts}.";
        }

        if (MaxResultChars < 0)
        {
            yield return $"Webhooks:MaxResultChars must be 0 or more, not {MaxResultChars}.";
        }

        if (FirstRetryDelay <= TimeSpan.Zero || AttemptTimeout <= TimeSpan.Zero)
        {
            yield return "Webhooks:FirstRetryDelay and Webhooks:AttemptTimeout must be positive.";
        }

        if (RetryHorizon < TimeSpan.Zero || FirstRoundDelay <= TimeSpan.Zero || LongestRoundDelay < FirstRoundDelay)
        {
            yield return "Webhooks:RetryHorizon must not be negative, Webhooks:FirstRoundDelay must be positive and at most Webhooks:LongestRoundDelay.";
        }
    }
}
