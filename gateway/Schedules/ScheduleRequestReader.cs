using System.Text.Json;
using Praison.Orleans.Gateway.Runs;

namespace Praison.Orleans.Gateway.Schedules;

/// <summary>
/// Reads a schedule body (docs/api.md: Schedules): the create body into an id and a
/// <see cref="ScheduleSpec"/>, a PATCH body into a <see cref="SchedulePatch"/>, or into the problem
/// that refuses it (<see cref="JsonBodyReader"/>). The cron, the time zone and whether the job can run
/// are the schedule grain's to check; this reads their shapes.
/// </summary>
internal sealed class ScheduleRequestReader(JsonElement body) : JsonBodyReader(body)
{
    /// <summary>A create request: the schedule's id (given or new) and its spec.</summary>
    public sealed record NewSchedule(string Id, ScheduleSpec Spec);

    public static Task<Parsed<NewSchedule>> ReadCreateAsync(
        HttpRequest request, ApiOptions limits, DateTimeOffset now, CancellationToken cancellationToken) =>
        ReadAsync<NewSchedule>(request, limits, reader =>
        {
            var id = reader.ScheduleId();
            var cron = reader.Text("cron", IScheduleGrain.MaxCronLength, required: true);
            var timeZone = reader.Text("timezone", IScheduleGrain.MaxTimeZoneLength) ?? "UTC";
            var job = reader.Job(limits, now, required: true);
            var overlap = reader.Choice<ScheduleOverlap>("overlap") ?? ScheduleOverlap.Skip;
            var catchUp = reader.Choice<ScheduleCatchUp>("catch_up") ?? ScheduleCatchUp.One;
            var paused = reader.Flag("paused") ?? false;
            return cron is null || job is null || reader.HasErrors
                ? reader.Refusal()
                : new NewSchedule(id, new ScheduleSpec(cron, timeZone, job, overlap, catchUp, paused));
        }, cancellationToken);

    public static Task<Parsed<SchedulePatch>> ReadPatchAsync(
        HttpRequest request, ApiOptions limits, DateTimeOffset now, CancellationToken cancellationToken) =>
        ReadAsync<SchedulePatch>(request, limits, reader =>
        {
            if (reader.Given("schedule_id"))
            {
                reader.Error("schedule_id", "A schedule's id cannot change");
            }

            var patch = new SchedulePatch(
                reader.Text("cron", IScheduleGrain.MaxCronLength),
                reader.Text("timezone", IScheduleGrain.MaxTimeZoneLength),
                reader.Job(limits, now, required: false),
                reader.Choice<ScheduleOverlap>("overlap"),
                reader.Choice<ScheduleCatchUp>("catch_up"),
                reader.Flag("paused"));
            return reader.HasErrors ? reader.Refusal() : patch;
        }, cancellationToken);

    private static Task<Parsed<T>> ReadAsync<T>(
        HttpRequest request, ApiOptions limits, Func<ScheduleRequestReader, Parsed<T>> read, CancellationToken cancellationToken)
        where T : class =>
        ReadAsync(request, limits.MaxRequestBodyBytes, read, static (body, read) => read(new ScheduleRequestReader(body)), cancellationToken);

    /// <summary>The given id, or a new one (<c>sch_</c> and 12 hex characters).</summary>
    private string ScheduleId()
    {
        if (Text("schedule_id", IScheduleGrain.MaxIdLength) is not { } id)
        {
            return JobIds.NewSchedule();
        }

        if (!JobKeys.IsValidScheduleId(id))
        {
            Error("schedule_id", $"Must be 1–{IScheduleGrain.MaxIdLength} letters, digits, '_' or '-'");
        }

        return id;
    }

    private JobSpec? Job(ApiOptions limits, DateTimeOffset now, bool required)
    {
        if (!Given("job"))
        {
            return required ? Error<JobSpec>("job", "Field required") : null;
        }

        var (spec, errors) = SubmitRequestReader.ReadScheduledJob(Body.GetProperty("job"), limits, now);
        AddErrors("", errors);
        return spec;
    }

}
