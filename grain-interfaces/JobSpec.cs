namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// What the caller asked for at submit, validated by the gateway. JSON objects travel as JSON text so
/// the record stays storage- and wire-friendly. <see cref="ApiBaseUrl"/> is where the caller reached the
/// API (<c>http://host:port</c>), for links the silo hands out (a webhook's <c>result_url</c>).
/// </summary>
[GenerateSerializer, Immutable, Alias("Praison.JobSpec")]
public sealed record JobSpec(
    [property: Id(0)] string Prompt,
    [property: Id(1)] string? RecipeName,
    [property: Id(2)] string RecipeConfigJson,
    [property: Id(3)] string? AgentFile,
    [property: Id(4)] string? AgentYaml,
    [property: Id(5)] string Framework,
    [property: Id(6)] string ConfigJson,
    [property: Id(7)] string? WebhookUrl,
    [property: Id(8)] int TimeoutSeconds,
    [property: Id(9)] string? SessionId,
    [property: Id(10)] string? IdempotencyKey,
    [property: Id(11)] int MaxAttempts,
    [property: Id(12)] DateTimeOffset? RunAt = null,
    [property: Id(13)] string? ScheduleId = null,
    [property: Id(14)] string? ApiBaseUrl = null,
    [property: Id(15)] int Priority = 0,
    [property: Id(16)] string? ConcurrencyKey = null,
    [property: Id(17)] int ConcurrencyLimit = 0,
    [property: Id(18)] string? SingletonKey = null,
    [property: Id(19)] int SingletonSeconds = 0,
    [property: Id(20)] IReadOnlyList<string>? DependsOn = null,
    [property: Id(21)] RunIf RunIf = RunIf.Succeeded,
    [property: Id(22)] string? BatchId = null)
{
    /// <summary>The longest <see cref="TimeoutSeconds"/> a job may ask for (30 days).</summary>
    public const int MaxTimeoutSeconds = 30 * 24 * 3600;

    /// <summary>The lowest and highest <see cref="Priority"/>: among one tenant's queued jobs on a silo, higher starts first.</summary>
    public const int MinPriority = -100, MaxPriority = 100;

    /// <summary>The longest <see cref="ConcurrencyKey"/>, and the highest <see cref="ConcurrencyLimit"/>.</summary>
    public const int MaxConcurrencyKeyLength = 200, MaxConcurrencyLimit = 10_000;

    /// <summary>The longest <see cref="SingletonSeconds"/> window (a day).</summary>
    public const int MaxSingletonSeconds = 86_400;

    /// <summary>
    /// The most jobs one job may depend on (<see cref="DependsOn"/>), and the most jobs that may depend on
    /// one job (each is recorded in that job's record, which every write of it carries).
    /// </summary>
    public const int MaxDependsOn = 1_000, MaxDependants = 1_000;
}
