using Microsoft.AspNetCore.Http.HttpResults;
using Praison.Orleans.Gateway.Docs;
using Praison.Orleans.Gateway.Runs;

namespace Praison.Orleans.Gateway.Schedules;

/// <summary>
/// <c>/api/v1/schedules</c> (docs/api.md: Schedules): each handler maps one request to one
/// <see cref="IScheduleGrain"/> call (the list: the tenant's directory, then its page's schedules).
/// </summary>
internal static class SchedulesApi
{
    public static RouteGroupBuilder MapSchedulesApi(this IEndpointRouteBuilder app)
    {
        var schedules = app.MapGroup("/api/v1/schedules").WithTags("Schedules");
        schedules.MapPost("/", CreateAsync).WithName("CreateSchedule")
            .WithMetadata(new RequestBodyDoc(typeof(CreateScheduleRequest)))
            .WithDescription("Creates a schedule: its job is submitted at each time its cron names in its time zone. "
                + "201 with Location; 409 for an id in use; 422 naming the field (cron, timezone, job.*, too frequent); 429 past Schedules:MaxPerTenant.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        schedules.MapGet("/", ListAsync).WithName("ListSchedules")
            .WithDescription("The tenant's schedules, newest first; page with page and page_size.")
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);
        schedules.MapGet("/{scheduleId}", GetAsync).WithName("GetSchedule").ProducesProblem(StatusCodes.Status404NotFound);
        schedules.MapMethods("/{scheduleId}", ["PATCH"], UpdateAsync).WithName("UpdateSchedule")
            .WithMetadata(new RequestBodyDoc(typeof(UpdateScheduleRequest)))
            .WithDescription("Changes the fields given; a new cron or time zone, or a resume, counts from now.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        schedules.MapDelete("/{scheduleId}", DeleteAsync).WithName("DeleteSchedule")
            .WithDescription("Deletes the schedule; the jobs it submitted stay.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        schedules.MapPost("/{scheduleId}/pause", (string scheduleId, [AsParameters] ApiServices api) =>
                SetPausedAsync(scheduleId, api, paused: true)).WithName("PauseSchedule")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        schedules.MapPost("/{scheduleId}/resume", (string scheduleId, [AsParameters] ApiServices api) =>
                SetPausedAsync(scheduleId, api, paused: false)).WithName("ResumeSchedule")
            .WithDescription("Resumes from now: firings missed while paused are not run.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        schedules.MapPost("/{scheduleId}/trigger", TriggerAsync).WithName("TriggerSchedule").RequireRateLimiting(SubmitQuotas.RatePolicy)
            .WithDescription("Submits the schedule's job now (paused or not, whatever its overlap); 202 as a submit, "
                + "and within the same submit rate and live-jobs quota (429).")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return schedules;
    }

    private static async Task<Results<Created<ScheduleResponse>, ProblemHttpResult>> CreateAsync(
        [AsParameters] ApiServices api)
    {
        if (!(await ScheduleRequestReader.ReadCreateAsync(api.Context.Request, api.Limits, api.Time.GetUtcNow(), api.Aborted)).TryGet(out var created, out var problem))
        {
            return problem;
        }

        var (id, spec) = created;
        if (await api.Webhooks.FirstProblemAsync(Targets(spec.Job, spec.Batch), api.Aborted) is { } refused)
        {
            return refused;
        }

        spec = spec with { Job = api.WithApiBase(spec.Job), Batch = spec.Batch?.Select(api.WithApiBase).ToList() };

        var reply = await api.Schedule(id).CreateAsync(spec);
        return reply.Status == ScheduleCommandStatus.Created && reply.HasSchedule
            ? TypedResults.Created($"/api/v1/schedules/{id}", ScheduleResponse.From(reply.Schedule))
            : reply.Status == ScheduleCommandStatus.Exists ? ApiProblems.Problem(StatusCodes.Status409Conflict, $"Schedule already exists: {id}")
            : Refused(api, reply);
    }

    private static async Task<Results<Ok<ScheduleListResponse>, ProblemHttpResult>> ListAsync([AsParameters] ApiServices api)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var (page, pageSize) = PageQuery.Read(api.Context.Request.Query, errors);
        if (errors.Count > 0)
        {
            return ApiProblems.Validation(errors);
        }

        var (ids, total) = await api.Grains.ScheduleDirectory(api.Tenant).ListAsync(page, pageSize);
        var found = await Task.WhenAll(ids.Select(id => api.Schedule(id).GetAsync()));
        return TypedResults.Ok(new ScheduleListResponse(
            found.OfType<ScheduleSnapshot>().Select(ScheduleResponse.From).ToList(), total, page, pageSize));
    }

    private static async Task<Results<Ok<ScheduleResponse>, ProblemHttpResult>> GetAsync(string scheduleId, [AsParameters] ApiServices api) =>
        (JobKeys.IsValidScheduleId(scheduleId) ? await api.Schedule(scheduleId).GetAsync() : null) is { } schedule
            ? TypedResults.Ok(ScheduleResponse.From(schedule))
            : NotFound(scheduleId);

    private static async Task<Results<Ok<ScheduleResponse>, ProblemHttpResult>> UpdateAsync(
        string scheduleId, [AsParameters] ApiServices api)
    {
        if (!JobKeys.IsValidScheduleId(scheduleId))
        {
            return NotFound(scheduleId);
        }

        if (!(await ScheduleRequestReader.ReadPatchAsync(api.Context.Request, api.Limits, api.Time.GetUtcNow(), api.Aborted)).TryGet(out var patch, out var problem))
        {
            return problem;
        }

        if (await api.Webhooks.FirstProblemAsync(Targets(patch.Job, patch.Batch), api.Aborted) is { } refused)
        {
            return refused;
        }

        patch = patch with { Job = patch.Job is { } job ? api.WithApiBase(job) : null, Batch = patch.Batch?.Select(api.WithApiBase).ToList() };

        return Answer(api, scheduleId, await api.Schedule(scheduleId).UpdateAsync(patch));
    }

    private static async Task<Results<Ok<ScheduleResponse>, ProblemHttpResult>> SetPausedAsync(
        string scheduleId, ApiServices api, bool paused) =>
        JobKeys.IsValidScheduleId(scheduleId)
            ? Answer(api, scheduleId, await api.Schedule(scheduleId).UpdateAsync(new SchedulePatch(null, null, null, null, null, paused)))
            : NotFound(scheduleId);

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string scheduleId, [AsParameters] ApiServices api) =>
        JobKeys.IsValidScheduleId(scheduleId) && await api.Schedule(scheduleId).DeleteAsync()
            ? TypedResults.NoContent()
            : NotFound(scheduleId);

    private static async Task<Results<Accepted<SubmitResponse>, ProblemHttpResult>> TriggerAsync(
        string scheduleId, [AsParameters] ApiServices api)
    {
        if (!JobKeys.IsValidScheduleId(scheduleId) || await api.Schedule(scheduleId).GetAsync() is not { } schedule)
        {
            return NotFound(scheduleId);
        }

        // A trigger is a submit: the tenant's live-jobs quota holds as for POST /api/v1/runs (and its rate,
        // above), for every job it makes (a batch schedule's: its batch's and the then job).
        using var place = await api.LiveJobs.TryTakeAsync(api.Tenant, 1 + (schedule.Spec.Batch?.Count ?? 0));
        if (place is null)
        {
            return api.LiveJobs.Refusal(api.Context);
        }

        if (await api.Schedule(scheduleId).TriggerAsync() is not { } reply)
        {
            return NotFound(scheduleId);
        }

        if (reply.Status == SubmitStatus.Accepted)
        {
            place.Keep();
        }

        if (!reply.HasJob)
        {
            return ApiProblems.Validation(new Dictionary<string, string[]> { ["job." + reply.Field] = [reply.Error ?? "Refused"] });
        }

        return RunsApi.Submitted(api, reply.Job);
    }

    /// <summary>The webhook targets of a schedule's job and batch, with the fields they are in.</summary>
    private static IEnumerable<(string? Url, string Field)> Targets(JobSpec? job, IReadOnlyList<JobSpec>? batch) =>
        (batch ?? []).Select((j, i) => (j.WebhookUrl, $"batch[{i}].webhook_url")).Prepend((job?.WebhookUrl, "job.webhook_url"));

    private static Results<Ok<ScheduleResponse>, ProblemHttpResult> Answer(ApiServices api, string scheduleId, ScheduleReply reply) =>
        reply.HasSchedule ? TypedResults.Ok(ScheduleResponse.From(reply.Schedule))
        : reply.Status == ScheduleCommandStatus.NotFound ? NotFound(scheduleId)
        : Refused(api, reply);

    /// <summary>429 past the tenant's schedules (no Retry-After: only a delete makes room), else 422 naming the field.</summary>
    private static ProblemHttpResult Refused(ApiServices api, ScheduleReply reply) =>
        !reply.Refused ? throw new InvalidOperationException($"A schedule command answered {reply.Status}, which is not a refusal.")
        : reply.Status == ScheduleCommandStatus.TooMany ? ApiProblems.TooManyRequests(api.Context, reply.Error, retryAfter: null)
        : ApiProblems.Validation(new Dictionary<string, string[]> { [reply.Field ?? "body"] = [reply.Error] });

    private static ProblemHttpResult NotFound(string scheduleId) =>
        ApiProblems.Problem(StatusCodes.Status404NotFound, $"Schedule not found: {scheduleId}");
}
