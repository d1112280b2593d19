using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Praison.Orleans.Gateway.Runs;

/// <summary>
/// Reads a submit body (README: API) into a <see cref="JobSpec"/>, or into the problem that rejects it:
/// 400 for a body that is not JSON, 413 for one over the size limit, 422 naming every bad field.
/// Unknown fields are ignored. Any content type is read as JSON, so a bare <c>curl -d</c> works.
/// </summary>
internal sealed class SubmitRequestReader
{
    private readonly JsonElement _body;
    private readonly RunsApiOptions _limits;
    private readonly Dictionary<string, string[]> _errors = new(StringComparer.Ordinal);

    private readonly DateTimeOffset _now;

    private SubmitRequestReader(JsonElement body, RunsApiOptions limits, DateTimeOffset now) => (_body, _limits, _now) = (body, limits, now);

    /// <summary>How far ahead a job may be scheduled (<c>run_at</c>, <c>delay_seconds</c>).</summary>
    public static readonly TimeSpan MaxScheduleAhead = TimeSpan.FromDays(365);

    public static async Task<Parsed<JobSpec>> ReadAsync(
        HttpRequest request, string? idempotencyHeader, RunsApiOptions limits, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!(await ParseObjectAsync(request, limits.MaxRequestBodyBytes, cancellationToken)).TryGet(out var document, out var problem))
        {
            return problem;
        }

        using (document)
        {
            return new SubmitRequestReader(document.RootElement, limits, now).Read(idempotencyHeader);
        }
    }

    /// <summary>
    /// Parses a request body that must be a JSON object (any content type): 400 for one that is not
    /// JSON or holds invalid text, 413 past <paramref name="bodyLimit"/>, 422 for another JSON value.
    /// The caller disposes the document.
    /// </summary>
    public static async Task<Parsed<JsonDocument>> ParseObjectAsync(
        HttpRequest request, long bodyLimit, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
        }
        catch (JsonException exception)
        {
            return ApiProblems.Problem(StatusCodes.Status400BadRequest, $"Malformed JSON body: {exception.Message}");
        }
        catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return ApiProblems.Problem(StatusCodes.Status413PayloadTooLarge, DeclaredBodyLimit.TooLarge(bodyLimit)); // a chunked body past the limit
        }

        ProblemHttpResult? problem = null;
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            problem = ApiProblems.Validation(new Dictionary<string, string[]> { ["body"] = ["Request body must be a JSON object"] });
        }
        else if (FieldWithInvalidText(document.RootElement) is { } field)
        {
            problem = ApiProblems.Problem(StatusCodes.Status400BadRequest,
                $"Invalid text in field '{field}': strings must be valid UTF-8 with no lone surrogates.");
        }

        if (problem is null)
        {
            return document;
        }

        document.Dispose();
        return problem;
    }

    /// <summary>
    /// The top-level field holding a string or name that is not valid Unicode (invalid UTF-8, or an
    /// escaped lone surrogate such as <c>"\ud800"</c>), which the parser accepts and only reading it as
    /// text refuses; null when all is valid. Nesting is bounded by the parser's depth limit (64).
    /// </summary>
    private static string? FieldWithInvalidText(JsonElement body)
    {
        foreach (var property in body.EnumerateObject())
        {
            string name;
            try
            {
                name = property.Name;
            }
            catch (InvalidOperationException)
            {
                return "body";
            }

            if (!IsValidText(property.Value))
            {
                return name;
            }
        }

        return null;
    }

    private static bool IsValidText(JsonElement element)
    {
        try
        {
            return element.ValueKind switch
            {
                JsonValueKind.String => element.GetString() is not null,
                JsonValueKind.Array => element.EnumerateArray().All(IsValidText),
                JsonValueKind.Object => element.EnumerateObject().All(p => p.Name is not null && IsValidText(p.Value)),
                _ => true,
            };
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private Parsed<JobSpec> Read(string? idempotencyHeader) =>
        ReadSpec(idempotencyHeader) is { } spec ? spec : ApiProblems.Validation(_errors);

    /// <summary>
    /// Reads a schedule's <c>job</c> object: the submit fields, each error named <c>job.&lt;field&gt;</c>.
    /// <c>run_at</c>, <c>delay_seconds</c> and <c>idempotency_key</c> are refused: the schedule says
    /// when, and each firing is a job of its own.
    /// </summary>
    public static (JobSpec? Spec, Dictionary<string, string[]> Errors) ReadScheduledJob(JsonElement job, RunsApiOptions limits, DateTimeOffset now)
    {
        if (job.ValueKind != JsonValueKind.Object)
        {
            return (null, new() { ["job"] = ["Must be a JSON object of submit fields"] });
        }

        var reader = new SubmitRequestReader(job, limits, now);
        var spec = reader.ReadSpec(null);
        foreach (var field in (string[])["run_at", "delay_seconds", "idempotency_key"])
        {
            if (reader.Optional(field) is not null)
            {
                reader.Error(field, "Not part of a schedule's job: the schedule says when, and each firing is a job of its own");
            }
        }

        return (reader._errors.Count == 0 ? spec : null, reader._errors.ToDictionary(e => "job." + e.Key, e => e.Value, StringComparer.Ordinal));
    }

    /// <summary>The spec of the body; null when a field is wrong (the errors say which).</summary>
    private JobSpec? ReadSpec(string? idempotencyHeader)
    {
        var prompt = Bounded("prompt", RequiredString("prompt"), _limits.MaxPromptChars, "Api:MaxPromptChars");
        var recipeName = OptionalString("recipe_name");
        var recipeConfig = Bounded("recipe_config", OptionalObject("recipe_config"), _limits.MaxConfigChars, "Api:MaxConfigChars") ?? "{}";
        var agentFile = OptionalString("agent_file");
        var agentYaml = Bounded("agent_yaml", OptionalString("agent_yaml"), _limits.MaxAgentYamlChars, "Api:MaxAgentYamlChars");
        var framework = OptionalString("framework") ?? "praisonai";
        var config = Bounded("config", OptionalObject("config"), _limits.MaxConfigChars, "Api:MaxConfigChars") ?? "{}";
        var webhookUrl = OptionalString("webhook_url");
        var timeout = OptionalInt("timeout", 0, JobSpec.MaxTimeoutSeconds) ?? 0;
        var sessionId = Printable("session_id", Bounded("session_id", OptionalString("session_id"), MaxSessionIdLength));
        var idempotencyKey = string.IsNullOrEmpty(idempotencyHeader)
            ? IdempotencyKey("idempotency_key", OptionalString("idempotency_key"))
            : IdempotencyKey("Idempotency-Key", idempotencyHeader);
        var maxAttempts = OptionalInt("max_attempts", 1, 10) ?? 0;
        var runAt = ScheduledStart();
        return _errors.Count > 0 ? null : new JobSpec(
            prompt!, recipeName, recipeConfig, agentFile, agentYaml, framework, config, webhookUrl,
            timeout, sessionId, idempotencyKey, maxAttempts, runAt);
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
        if (OptionalString("run_at") is { } text)
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

    /// <summary>The longest <c>session_id</c> accepted.</summary>
    public const int MaxSessionIdLength = 256;

    private string? Bounded(string field, string? text, int maxLength, string? setting = null) =>
        text is null || text.Length <= maxLength ? text
        : Error(field, $"Must be at most {maxLength} characters" + (setting is null ? "" : $" ({setting})"));

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

    private string? RequiredString(string name)
    {
        if (!_body.TryGetProperty(name, out var value))
        {
            Error(name, "Field required");
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : Error(name, "Must be a string");
    }

    private string? OptionalString(string name) =>
        Optional(name) is not { } value ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : Error(name, "Must be a string or null");

    private string OptionalObject(string name) =>
        Optional(name) is not { } value ? "{}"
        : value.ValueKind == JsonValueKind.Object ? value.GetRawText()
        : Error(name, "Must be a JSON object or null") ?? "{}";

    private int? OptionalInt(string name, int min, int max)
    {
        if (Optional(name) is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number)
            || number != Math.Floor(number))
        {
            Error(name, "Must be a whole number or null");
            return null;
        }

        if (number < min || number > max)
        {
            Error(name, $"Must be from {min} to {max}");
            return null;
        }

        return (int)number;
    }

    /// <summary>The field's value; null when it is absent or JSON null.</summary>
    private JsonElement? Optional(string name) =>
        _body.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private string? Error(string field, string message)
    {
        _errors[field] = [message];
        return null;
    }
}
