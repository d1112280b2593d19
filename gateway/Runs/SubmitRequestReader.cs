using System.Text.Json;

namespace Praison.Orleans.Gateway.Runs;

/// <summary>
/// Reads a submit body (docs/api.md) into a <see cref="JobSpec"/>, or into the problem that rejects it
/// (<see cref="JsonBodyReader"/>: 400, 413, or 422 naming every bad field).
/// </summary>
internal sealed class SubmitRequestReader : JsonBodyReader
{
    private readonly ApiOptions _limits;
    private readonly DateTimeOffset _now;

    private SubmitRequestReader(JsonElement body, ApiOptions limits, DateTimeOffset now)
        : base(body) => (_limits, _now) = (limits, now);

    /// <summary>How far ahead a job may be scheduled (<c>run_at</c>, <c>delay_seconds</c>).</summary>
    public static readonly TimeSpan MaxScheduleAhead = TimeSpan.FromDays(365);

    public static Task<Parsed<JobSpec>> ReadAsync(
        HttpRequest request, string? idempotencyHeader, ApiOptions limits, DateTimeOffset now, CancellationToken cancellationToken) =>
        ReadAsync(
            request, limits.MaxRequestBodyBytes, (limits, now, idempotencyHeader),
            static (body, s) => new SubmitRequestReader(body, s.limits, s.now).Read(s.idempotencyHeader), cancellationToken);

    private Parsed<JobSpec> Read(string? idempotencyHeader) =>
        ReadSpec(idempotencyHeader) is { } spec ? spec : Refusal();

    /// <summary>
    /// Reads a schedule's <c>job</c> object (<paramref name="name"/>: or <c>batch[i]</c>, one of its batch):
    /// the submit fields, each error named <c>name.&lt;field&gt;</c>. <c>run_at</c>, <c>delay_seconds</c>
    /// and <c>idempotency_key</c> are refused: the schedule says when, and each firing is a job of its own.
    /// </summary>
    public static (JobSpec? Spec, IReadOnlyDictionary<string, string[]> Errors) ReadScheduledJob(JsonElement job, ApiOptions limits, DateTimeOffset now, string name = "job") =>
        ReadEmbeddedJob(job, limits, now, name, ScheduleRefuses, "Not part of a schedule's job: the schedule says when, and each firing is a job of its own");

    private static readonly string[] ScheduleRefuses = ["run_at", "delay_seconds", "idempotency_key", "singleton_key", "singleton_seconds"];

    /// <summary>
    /// Reads one job of a batch (<paramref name="name"/>: <c>jobs[i]</c>, or <c>then</c>): the submit
    /// fields, each error named <c>name.&lt;field&gt;</c>. Keys are refused (the batch's own
    /// <c>Idempotency-Key</c> makes its creation safe to repeat), and so is the then job's <c>depends_on</c>
    /// (it depends on the batch).
    /// </summary>
    public static (JobSpec? Spec, IReadOnlyDictionary<string, string[]> Errors) ReadBatchJob(JsonElement job, ApiOptions limits, DateTimeOffset now, string name) =>
        ReadEmbeddedJob(job, limits, now, name, name == "then" ? ThenRefuses : BatchRefuses,
            name == "then" ? "Not part of a then job: it depends on its batch, whose key makes it once" : "Not part of a batch's job: the batch's Idempotency-Key makes each once");

    private static readonly string[] BatchRefuses = ["idempotency_key", "singleton_key", "singleton_seconds"];

    private static readonly string[] ThenRefuses = [.. BatchRefuses, "depends_on", "run_at", "delay_seconds"];

    private static (JobSpec? Spec, IReadOnlyDictionary<string, string[]> Errors) ReadEmbeddedJob(
        JsonElement job, ApiOptions limits, DateTimeOffset now, string name, string[] refused, string why)
    {
        if (job.ValueKind != JsonValueKind.Object)
        {
            return (null, new Dictionary<string, string[]> { [name] = ["Must be a JSON object of submit fields"] });
        }

        var reader = new SubmitRequestReader(job, limits, now);
        var spec = reader.ReadSpec(null);
        foreach (var field in refused)
        {
            if (reader.Optional(field) is not null)
            {
                reader.Error(field, why);
            }
        }

        return (reader.HasErrors ? null : spec, reader.Errors.ToDictionary(e => name + "." + e.Key, e => e.Value, StringComparer.Ordinal));
    }

    /// <summary>The spec of the body; null when a field is wrong (the errors say which).</summary>
    private JobSpec? ReadSpec(string? idempotencyHeader)
    {
        var prompt = Text("prompt", _limits.MaxPromptChars, "Api:MaxPromptChars", required: true);
        var recipeName = Text("recipe_name");
        var recipeConfig = ObjectText("recipe_config", _limits.MaxConfigChars, "Api:MaxConfigChars") ?? "{}";
        var agentFile = Text("agent_file");
        var agentYaml = Text("agent_yaml", _limits.MaxAgentYamlChars, "Api:MaxAgentYamlChars");
        var framework = Text("framework") ?? "praisonai";
        var config = ObjectText("config", _limits.MaxConfigChars, "Api:MaxConfigChars") ?? "{}";
        var webhookUrl = Text("webhook_url");
        var timeout = WholeNumber("timeout", 0, JobSpec.MaxTimeoutSeconds) ?? 0;
        var sessionId = Printable("session_id", Text("session_id", MaxSessionIdLength));
        var idempotencyKey = string.IsNullOrEmpty(idempotencyHeader)
            ? IdempotencyKey("idempotency_key", Text("idempotency_key"))
            : IdempotencyKey("Idempotency-Key", idempotencyHeader);
        var maxAttempts = WholeNumber("max_attempts", 1, 10) ?? 0;
        var priority = WholeNumber("priority", JobSpec.MinPriority, JobSpec.MaxPriority) ?? 0;
        var concurrencyKey = ConcurrencyKey();
        var concurrencyLimit = WholeNumber("concurrency_limit", 1, JobSpec.MaxConcurrencyLimit) ?? 0;
        if (concurrencyLimit > 0 && concurrencyKey is null)
        {
            Error("concurrency_limit", "Limits a concurrency_key: give one");
        }

        var (singletonKey, singletonSeconds) = Singleton(idempotencyKey);
        var runAt = ScheduledStart();
        var (dependsOn, runIf) = Dependencies();
        return HasErrors ? null : new JobSpec(
            prompt!, recipeName, recipeConfig, agentFile, agentYaml, framework, config, webhookUrl,
            timeout, sessionId, idempotencyKey, maxAttempts, runAt, Priority: priority,
            ConcurrencyKey: concurrencyKey, ConcurrencyLimit: concurrencyLimit, SingletonKey: singletonKey, SingletonSeconds: singletonSeconds,
            DependsOn: dependsOn, RunIf: runIf);
    }

    /// <summary>
    /// <c>depends_on</c> (an array of 1 to <see cref="JobSpec.MaxDependsOn"/> job or batch ids, repeats counted
    /// once; an empty array means none) and <c>run_if</c> (only with it). Whether those jobs exist is the
    /// job grain's to say, as it records itself in each.
    /// </summary>
    private (IReadOnlyList<string>? DependsOn, RunIf RunIf) Dependencies()
    {
        var runIf = Choice<RunIf>("run_if");
        if (Optional("depends_on") is not { } given)
        {
            if (runIf is not null)
            {
                Error("run_if", "Says when a job with depends_on runs: give depends_on");
            }

            return (null, RunIf.Succeeded);
        }

        if (given.ValueKind != JsonValueKind.Array)
        {
            return (Error<IReadOnlyList<string>>("depends_on", "Must be an array of job ids or null"), RunIf.Succeeded);
        }

        if (given.GetArrayLength() > JobSpec.MaxDependsOn)
        {
            return (Error<IReadOnlyList<string>>("depends_on", $"Must name at most {JobSpec.MaxDependsOn} jobs"), RunIf.Succeeded);
        }

        var (parents, seen) = (new List<string>(), new HashSet<string>(StringComparer.Ordinal));
        foreach (var item in given.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || !(JobIds.IsWellFormed(item.GetString()!) || JobIds.IsWellFormedBatch(item.GetString()!)))
            {
                return (Error<IReadOnlyList<string>>("depends_on", "Must hold job ids (run_ and 12 hex characters) or batch ids (bat_ and 12)"), RunIf.Succeeded);
            }

            if (seen.Add(item.GetString()!))
            {
                parents.Add(item.GetString()!);
            }
        }

        if (parents.Count == 0 && runIf is not null)
        {
            Error("run_if", "Says when a job with depends_on runs: give depends_on");
        }

        return (parents.Count == 0 ? null : parents, runIf ?? RunIf.Succeeded);
    }

    /// <summary>
    /// When the job may start: <c>run_at</c> (an RFC 3339 instant with its offset) or <c>delay_seconds</c>
    /// from now, not both, at most <see cref="MaxScheduleAhead"/> ahead; null (at once) for neither or a
    /// time already past.
    /// </summary>
    private DateTimeOffset? ScheduledStart()
    {
        TimeSpan? delay = null;
        if (Optional("delay_seconds") is { } given)
        {
            if (given.ValueKind != JsonValueKind.Number || !given.TryGetDouble(out var seconds) || seconds < 0 || seconds > MaxScheduleAhead.TotalSeconds)
            {
                Error("delay_seconds", $"Must be a number of seconds from 0 to {MaxScheduleAhead.TotalSeconds:0}");
                return null;
            }

            delay = TimeSpan.FromSeconds(seconds);
        }

        DateTimeOffset? runAt = null;
        if (Text("run_at") is { } text)
        {
            runAt = Rfc3339(text);
            if (runAt is null)
            {
                Error("run_at", "Must be an RFC 3339 date and time with its offset, e.g. 2026-12-01T02:00:00Z");
                return null;
            }
        }

        if (runAt is not null && delay is not null)
        {
            Error("run_at", "Give run_at or delay_seconds, not both");
            return null;
        }

        var start = runAt ?? _now + delay;
        if (start > _now + MaxScheduleAhead)
        {
            Error("run_at", $"Must be at most {MaxScheduleAhead.TotalDays:0} days ahead");
            return null;
        }

        return start > _now ? start : null;
    }

    private static DateTimeOffset? Rfc3339(string text) =>
        text.Length is > 10 and <= 40 && (text.EndsWith('Z') || text.EndsWith('z') || text[^6] is '+' or '-')
        && DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var instant)
            ? instant
            : null;

    /// <summary><c>concurrency_key</c>: 1 to <see cref="JobSpec.MaxConcurrencyKeyLength"/> printable characters; empty means none.</summary>
    private string? ConcurrencyKey() =>
        Text("concurrency_key", JobSpec.MaxConcurrencyKeyLength) is { Length: > 0 } key ? Printable("concurrency_key", key) : null;

    /// <summary>
    /// <c>singleton_key</c> (printable, at most <see cref="ISingletonKeyGrain.MaxKeyLength"/>; not with an
    /// idempotency key, which already names one job for good) and <c>singleton_seconds</c> (only with a key).
    /// </summary>
    private (string? Key, int Seconds) Singleton(string? idempotencyKey)
    {
        var key = Text("singleton_key", ISingletonKeyGrain.MaxKeyLength) is { Length: > 0 } given ? Printable("singleton_key", given) : null;
        var seconds = WholeNumber("singleton_seconds", 1, JobSpec.MaxSingletonSeconds) ?? 0;
        if (key is not null && idempotencyKey is not null)
        {
            Error("singleton_key", "Give singleton_key or an idempotency key, not both");
        }

        if (seconds > 0 && key is null)
        {
            Error("singleton_seconds", "Is the window of a singleton_key: give one");
        }

        return (key, seconds);
    }

    /// <summary>The longest <c>session_id</c> accepted.</summary>
    public const int MaxSessionIdLength = 256;

    /// <summary>The header wins over the body; an empty body key means none.</summary>
    private string? IdempotencyKey(string field, string? key) =>
        key is null || key.Length == 0 ? null
        : key.Length <= IIdempotencyGrain.MaxKeyLength ? Printable(field, key)
        : Error(field, $"Must be at most {IIdempotencyGrain.MaxKeyLength} characters");

    /// <summary>
    /// Keys and session ids become grain keys, blob names and table properties: no control characters,
    /// which no real one needs and storage services may refuse.
    /// </summary>
    private string? Printable(string field, string? text) =>
        text is null || !text.Any(char.IsControl) ? text : Error(field, "Must not contain control characters");

}
