using System.Text.Json;
using Praison.Orleans.Gateway.Runs;

namespace Praison.Orleans.Gateway.Schedules;

/// <summary>
/// Reads a schedule body (docs/api.md: Schedules): the create body into an id and a
/// <see cref="ScheduleSpec"/>, a PATCH body into a <see cref="SchedulePatch"/>, or into the problem
/// that refuses it (<see cref="JsonBodyReader"/>). The cron, the time zone and whether the jobs can run
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
            var batch = reader.Batch(limits, now);
            var overlap = reader.Choice<ScheduleOverlap>("overlap") ?? ScheduleOverlap.Skip;
            var catchUp = reader.Choice<ScheduleCatchUp>("catch_up") ?? ScheduleCatchUp.One;
            var paused = reader.Flag("paused") ?? false;
            return cron is null || job is null || reader.HasErrors
                ? reader.Refusal()
                : new NewSchedule(id, new ScheduleSpec(cron, timeZone, job, overlap, catchUp, paused, batch is { Count: > 0 } ? batch : null));
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
                reader.Flag("paused"),
                reader.Batch(limits, now));
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

    /// <summary>
    /// <c>batch</c>: an array of up to <see cref="ScheduleSpec.MaxBatchJobs"/> submit bodies (each read as
    /// <c>job</c> is, errors named <c>batch[i].field</c>), the jobs of the batch each firing makes; empty
    /// means none (a PATCH takes the batch away); null when not given.
    /// </summary>
    private List<JobSpec>? Batch(ApiOptions limits, DateTimeOffset now)
    {
        if (Optional("batch") is not { } given)
        {
            return null;
        }

        if (given.ValueKind != JsonValueKind.Array || given.GetArrayLength() > ScheduleSpec.MaxBatchJobs)
        {
            return Error<List<JobSpec>>("batch", $"Must be an array of at most {ScheduleSpec.MaxBatchJobs} submit bodies");
        }

        var jobs = new List<JobSpec>(given.GetArrayLength());
        foreach (var item in given.EnumerateArray())
        {
            var (spec, errors) = SubmitRequestReader.ReadScheduledJob(item, limits, now, $"batch[{jobs.Count}]");
            AddErrors("", errors);
            if (spec is null)
            {
                return null; // the first wrong job is named; the rest are not read
            }

            jobs.Add(spec);
        }

        return jobs;
    }

}
