using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Praison.Orleans.Gateway.Auth;
using Praison.Orleans.Gateway.Docs;
using Praison.Orleans.Gateway.Runs;

namespace Praison.Orleans.Gateway.Schedules;

/// <summary>
/// <c>/api/v1/schedules</c> (README: Schedules): each handler maps one request to one
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
        schedules.MapPost("/{scheduleId}/pause", (string scheduleId, HttpContext context, IGrainFactory grains) =>
                SetPausedAsync(scheduleId, context, grains, paused: true)).WithName("PauseSchedule")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        schedules.MapPost("/{scheduleId}/resume", (string scheduleId, HttpContext context, IGrainFactory grains) =>
                SetPausedAsync(scheduleId, context, grains, paused: false)).WithName("ResumeSchedule")
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
        HttpContext context, IGrainFactory grains, IOptions<RunsApiOptions> api, WebhookTargets webhooks, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (!(await ScheduleRequestReader.ReadCreateAsync(context.Request, api.Value, time.GetUtcNow(), cancellationToken)).TryGet(out var created, out var problem))
        {
            return problem;
        }

        var (id, spec) = created;
        if (spec.Job.WebhookUrl is not null)
        {
            spec = spec with { Job = spec.Job with { ApiBaseUrl = RunsApi.ApiBase(context.Request) } }; // for the webhook's result_url
        }
        if (spec.Job.WebhookUrl is { } webhookUrl && await webhooks.ProblemAsync(webhookUrl, cancellationToken) is { } refused)
        {
            return ApiProblems.Validation(new Dictionary<string, string[]> { ["job.webhook_url"] = [refused] });
        }

        var reply = await grains.Schedule(Tenancy.TenantOf(context.User), id).CreateAsync(spec);
        return reply.Status == ScheduleCommandStatus.Created && reply.HasSchedule
            ? TypedResults.Created($"/api/v1/schedules/{id}", ScheduleResponse.From(reply.Schedule))
            : reply.Status == ScheduleCommandStatus.Exists ? ApiProblems.Problem(StatusCodes.Status409Conflict, $"Schedule already exists: {id}")
            : Refused(reply);
    }

    private static async Task<Results<Ok<ScheduleListResponse>, ProblemHttpResult>> ListAsync(HttpContext context, IGrainFactory grains)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var page = ListQueryReader.Number(context.Request.Query, "page", 1, 1, ListQueryReader.MaxDepth, errors);
        var pageSize = ListQueryReader.Number(context.Request.Query, "page_size", 20, 1, ListQueryReader.MaxPageSize, errors);
        if (errors.Count > 0)
        {
            return ApiProblems.Validation(errors);
        }

        var tenant = Tenancy.TenantOf(context.User);
        var (ids, total) = await grains.ScheduleDirectory(tenant).ListAsync(page, pageSize);
        var found = await Task.WhenAll(ids.Select(id => grains.Schedule(tenant, id).GetAsync()));
        return TypedResults.Ok(new ScheduleListResponse(
            found.OfType<ScheduleSnapshot>().Select(ScheduleResponse.From).ToList(), total, page, pageSize));
    }

    private static async Task<Results<Ok<ScheduleResponse>, ProblemHttpResult>> GetAsync(string scheduleId, HttpContext context, IGrainFactory grains) =>
        (JobKeys.IsValidScheduleId(scheduleId) ? await ScheduleOf(context, grains, scheduleId).GetAsync() : null) is { } schedule
            ? TypedResults.Ok(ScheduleResponse.From(schedule))
            : NotFound(scheduleId);

    private static async Task<Results<Ok<ScheduleResponse>, ProblemHttpResult>> UpdateAsync(
        string scheduleId, HttpContext context, IGrainFactory grains, IOptions<RunsApiOptions> api, WebhookTargets webhooks,
        TimeProvider time, CancellationToken cancellationToken)
    {
        if (!JobKeys.IsValidScheduleId(scheduleId))
        {
            return NotFound(scheduleId);
        }

        if (!(await ScheduleRequestReader.ReadPatchAsync(context.Request, api.Value, time.GetUtcNow(), cancellationToken)).TryGet(out var patch, out var problem))
        {
            return problem;
        }

        if (patch.Job?.WebhookUrl is { } webhookUrl && await webhooks.ProblemAsync(webhookUrl, cancellationToken) is { } refused)
        {
            return ApiProblems.Validation(new Dictionary<string, string[]> { ["job.webhook_url"] = [refused] });
        }

        if (patch.Job is { WebhookUrl: not null } job)
        {
            patch = patch with { Job = job with { ApiBaseUrl = RunsApi.ApiBase(context.Request) } };
        }

        return Answer(scheduleId, await ScheduleOf(context, grains, scheduleId).UpdateAsync(patch));
    }

    private static async Task<Results<Ok<ScheduleResponse>, ProblemHttpResult>> SetPausedAsync(
        string scheduleId, HttpContext context, IGrainFactory grains, bool paused) =>
        JobKeys.IsValidScheduleId(scheduleId)
            ? Answer(scheduleId, await ScheduleOf(context, grains, scheduleId).UpdateAsync(new SchedulePatch(null, null, null, null, null, paused)))
            : NotFound(scheduleId);

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string scheduleId, HttpContext context, IGrainFactory grains) =>
        JobKeys.IsValidScheduleId(scheduleId) && await ScheduleOf(context, grains, scheduleId).DeleteAsync()
            ? TypedResults.NoContent()
            : NotFound(scheduleId);

    private static async Task<Results<Accepted<SubmitResponse>, ProblemHttpResult>> TriggerAsync(
        string scheduleId, HttpContext context, IGrainFactory grains, LiveJobQuota liveJobs)
    {
        if (!JobKeys.IsValidScheduleId(scheduleId) || await ScheduleOf(context, grains, scheduleId).GetAsync() is null)
        {
            return NotFound(scheduleId);
        }

        // A trigger is a submit: the tenant's live-jobs quota holds as for POST /api/v1/runs (and its rate, above).
        using var place = await liveJobs.TryTakeAsync(Tenancy.TenantOf(context.User));
        if (place is null)
        {
            return liveJobs.Refusal(context);
        }

        if (await ScheduleOf(context, grains, scheduleId).TriggerAsync() is not { } reply)
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

        return RunsApi.Submitted(context, reply.Job);
    }

    private static Results<Ok<ScheduleResponse>, ProblemHttpResult> Answer(string scheduleId, ScheduleReply reply) =>
        reply.HasSchedule ? TypedResults.Ok(ScheduleResponse.From(reply.Schedule))
        : reply.Status == ScheduleCommandStatus.NotFound ? NotFound(scheduleId)
        : Refused(reply);

    /// <summary>429 past the tenant's schedules, else 422 naming the field.</summary>
    private static ProblemHttpResult Refused(ScheduleReply reply) =>
        !reply.Refused ? throw new InvalidOperationException($"A schedule command answered {reply.Status}, which is not a refusal.")
        : reply.Status == ScheduleCommandStatus.TooMany ? ApiProblems.Problem(StatusCodes.Status429TooManyRequests, reply.Error)
        : ApiProblems.Validation(new Dictionary<string, string[]> { [reply.Field ?? "body"] = [reply.Error] });

    private static ProblemHttpResult NotFound(string scheduleId) =>
        ApiProblems.Problem(StatusCodes.Status404NotFound, $"Schedule not found: {scheduleId}");

    private static IScheduleGrain ScheduleOf(HttpContext context, IGrainFactory grains, string scheduleId) =>
        grains.Schedule(Tenancy.TenantOf(context.User), scheduleId);
}
