using System.Text.Json;
using Praison.Orleans.Gateway.Runs;
using Praison.Orleans.Grains.Schedules;

namespace Praison.Orleans.Gateway.Schedules;

/// <summary>
/// Reads a schedule body (README: Schedules): the create body into an id and a
/// <see cref="ScheduleSpec"/>, a PATCH body into a <see cref="SchedulePatch"/>, or into the problem
/// that refuses it (400 not JSON, 413 too large, 422 naming every bad field). The cron, the time zone
/// and whether the job can run are the schedule grain's to check; this reads their shapes.
/// </summary>
internal sealed class ScheduleRequestReader
{
    /// <summary>A create request: the schedule's id (given or new) and its spec.</summary>
    public sealed record NewSchedule(string Id, ScheduleSpec Spec);

    private readonly JsonElement _body;
    private readonly Dictionary<string, string[]> _errors = new(StringComparer.Ordinal);

    private ScheduleRequestReader(JsonElement body) => _body = body;

    public static Task<Parsed<NewSchedule>> ReadCreateAsync(
        HttpRequest request, RunsApiOptions limits, DateTimeOffset now, CancellationToken cancellationToken) =>
        ReadAsync<NewSchedule>(request, limits, reader =>
        {
            var id = reader.ScheduleId();
            var cron = reader.Text("cron", ScheduleTimes.MaxCronLength, required: true);
            var timeZone = reader.Text("timezone", ScheduleTimes.MaxTimeZoneLength) ?? "UTC";
            var job = reader.Job(limits, now, required: true);
            var overlap = reader.Choice("overlap", Overlaps) ?? ScheduleOverlap.Skip;
            var catchUp = reader.Choice("catch_up", CatchUps) ?? ScheduleCatchUp.One;
            var paused = reader.Flag("paused") ?? false;
            return cron is null || job is null || reader._errors.Count > 0
                ? ApiProblems.Validation(reader._errors)
                : new NewSchedule(id, new ScheduleSpec(cron, timeZone, job, overlap, catchUp, paused));
        }, cancellationToken);

    public static Task<Parsed<SchedulePatch>> ReadPatchAsync(
        HttpRequest request, RunsApiOptions limits, DateTimeOffset now, CancellationToken cancellationToken) =>
        ReadAsync<SchedulePatch>(request, limits, reader =>
        {
            if (reader.Given("schedule_id"))
            {
                reader.Error("schedule_id", "A schedule's id cannot change");
            }

            var patch = new SchedulePatch(
                reader.Text("cron", ScheduleTimes.MaxCronLength),
                reader.Text("timezone", ScheduleTimes.MaxTimeZoneLength),
                reader.Job(limits, now, required: false),
                reader.Choice("overlap", Overlaps),
                reader.Choice("catch_up", CatchUps),
                reader.Flag("paused"));
            return reader._errors.Count > 0 ? ApiProblems.Validation(reader._errors) : patch;
        }, cancellationToken);

    /// <summary>Parses the body as a JSON object (or refuses it) and reads it with <paramref name="read"/>.</summary>
    private static async Task<Parsed<T>> ReadAsync<T>(
        HttpRequest request, RunsApiOptions limits, Func<ScheduleRequestReader, Parsed<T>> read, CancellationToken cancellationToken)
        where T : class
    {
        if (!(await SubmitRequestReader.ParseObjectAsync(request, limits.MaxRequestBodyBytes, cancellationToken)).TryGet(out var document, out var problem))
        {
            return problem;
        }

        using (document)
        {
            return read(new ScheduleRequestReader(document.RootElement));
        }
    }

    public static readonly IReadOnlyDictionary<string, ScheduleOverlap> Overlaps =
        new Dictionary<string, ScheduleOverlap> { ["skip"] = ScheduleOverlap.Skip, ["allow"] = ScheduleOverlap.Allow };

    public static readonly IReadOnlyDictionary<string, ScheduleCatchUp> CatchUps =
        new Dictionary<string, ScheduleCatchUp> { ["one"] = ScheduleCatchUp.One, ["none"] = ScheduleCatchUp.None };

    /// <summary>The given id, or a new one (<c>sch_</c> and 12 hex characters).</summary>
    private string ScheduleId()
    {
        if (Text("schedule_id", IScheduleGrain.MaxIdLength) is not { } id)
        {
            return "sch_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));
        }

        if (!JobKeys.IsValidScheduleId(id))
        {
            Error("schedule_id", $"Must be 1–{IScheduleGrain.MaxIdLength} letters, digits, '_' or '-'");
        }

        return id;
    }

    private JobSpec? Job(RunsApiOptions limits, DateTimeOffset now, bool required)
    {
        if (!Given("job"))
        {
            return required ? Error<JobSpec>("job", "Field required") : null;
        }

        var (spec, errors) = SubmitRequestReader.ReadScheduledJob(_body.GetProperty("job"), limits, now);
        foreach (var (field, messages) in errors)
        {
            _errors[field] = messages;
        }

        return spec;
    }

    private string? Text(string field, int maxLength, bool required = false)
    {
        if (!Given(field))
        {
            return required ? Error(field, "Field required") : null;
        }

        var value = _body.GetProperty(field);
        return value.ValueKind != JsonValueKind.String ? Error(field, "Must be a string")
            : value.GetString() is not { Length: > 0 } text ? Error(field, "Must not be empty")
            : text.Length > maxLength ? Error(field, $"Must be at most {maxLength} characters")
            : text;
    }

    private T? Choice<T>(string field, IReadOnlyDictionary<string, T> choices)
        where T : struct
    {
        if (!Given(field))
        {
            return null;
        }

        var value = _body.GetProperty(field);
        if (value.ValueKind == JsonValueKind.String && choices.TryGetValue(value.GetString()!, out var choice))
        {
            return choice;
        }

        Error(field, $"Must be one of: {string.Join(", ", choices.Keys)}");
        return null;
    }

    private bool? Flag(string field)
    {
        if (!Given(field))
        {
            return null;
        }

        var value = _body.GetProperty(field);
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return value.GetBoolean();
        }

        Error(field, "Must be true or false");
        return null;
    }

    /// <summary>Present and not JSON null.</summary>
    private bool Given(string field) => _body.TryGetProperty(field, out var value) && value.ValueKind != JsonValueKind.Null;

    private T? Error<T>(string field, string message)
    {
        _errors[field] = [message];
        return default;
    }

    private string? Error(string field, string message) => Error<string>(field, message);
}
