using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Praison.Orleans.Gateway.Docs;

namespace Praison.Orleans.Gateway.Runs;

/// <summary>
/// <c>/api/v1/runs</c> (docs/api.md): each handler maps one request to one <see cref="IJobGrain"/> call
/// and its reply to the spec's status codes and bodies.
/// </summary>
internal static class RunsApi
{
    /// <summary>JSON in snake_case with UTC timestamps, and the request body limit of <see cref="ApiOptions"/>.</summary>
    public static WebApplicationBuilder AddRunsApi(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ApiOptions>()
            .BindConfiguration(ApiOptions.Section)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ApiOptions>>(new ProblemsValidator<ApiOptions>(o => o.Problems()));
        builder.Services.AddOptions<KestrelServerOptions>()
            .Configure<IOptions<ApiOptions>>((kestrel, api) =>
                kestrel.Limits.MaxRequestBodySize = api.Value.MaxRequestBodyBytes);
        builder.Services.AddSingleton<RunEventStream>();
        builder.Services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section); // AllowPrivateTargets, as the silos read it
        builder.Services.AddSingleton<WebhookTargets>();
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
            json.SerializerOptions.Converters.Add(new UtcTimestampConverter());
        });
        return builder;
    }

    public static RouteGroupBuilder MapRunsApi(this IEndpointRouteBuilder app)
    {
        var runs = app.MapGroup("/api/v1/runs").WithTags("Runs");
        runs.MapPost("/", SubmitAsync).WithName("SubmitRun").RequireRateLimiting(SubmitQuotas.RatePolicy)
            .WithMetadata(new RequestBodyDoc(typeof(SubmitRunRequest))) // not Accepts<>: that would refuse a bare curl -d with 415
            .WithMetadata(new RequestHeaderDoc("Idempotency-Key", "Submit safely twice: a repeat answers 202 with the job the key names.", IIdempotencyGrain.MaxKeyLength))
            .WithDescription("Submits a job. 202 with Location and Retry-After. 413 over the body limit; 429 past the tenant's submit rate or live jobs.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        runs.MapGet("/", ListAsync).WithName("ListRuns")
            .WithDescription("The tenant's jobs, newest first; filter by status, session_id, schedule_id, batch_id and priority; page with page and page_size.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);
        runs.MapGet("/{jobId}", GetStatusAsync).WithName("GetRunStatus").ProducesProblem(StatusCodes.Status404NotFound);
        runs.MapGet("/{jobId}/result", GetResultAsync).WithName("GetRunResult")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        runs.MapGet("/{jobId}/stream", StreamAsync).WithName("StreamRun")
            .WithMetadata(new RequestHeaderDoc("Last-Event-ID", "Resume after this event id, as an EventSource reconnecting does."))
            .WithDescription("Server-Sent Events: `status` {status, job_id}, `progress` {percentage, step}, `heartbeat` {timestamp} after 5 s idle, "
                + "then one `result` {result}, `error` {error} or `cancelled` {message}, and the stream closes.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        runs.MapPost("/{jobId}/cancel", CancelAsync).WithName("CancelRun")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        runs.MapDelete("/{jobId}", DeleteAsync).WithName("DeleteRun")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return runs;
    }

    private static async Task<Results<Accepted<SubmitResponse>, ProblemHttpResult>> SubmitAsync([AsParameters] ApiServices api)
    {
        var (context, grains, liveJobs) = (api.Context, api.Grains, api.LiveJobs);
        var idempotencyKey = context.Request.Headers["Idempotency-Key"].ToString();
        var read = await SubmitRequestReader.ReadAsync(context.Request, idempotencyKey, api.Limits, api.Time.GetUtcNow(), api.Aborted);
        if (!read.TryGet(out var spec, out var refused))
        {
            return refused;
        }

        if (spec.WebhookUrl is { } webhookUrl)
        {
            if (await api.Webhooks.ProblemAsync(webhookUrl, api.Aborted) is { } problem)
            {
                return ApiProblems.Validation(new Dictionary<string, string[]> { ["webhook_url"] = [problem] });
            }

            spec = api.WithApiBase(spec);
        }

        var tenant = api.Tenant;
        using var place = await liveJobs.TryTakeAsync(tenant);
        if (place is null)
        {
            // At the quota, a repeat still gets the job its key names: it creates nothing.
            return spec.IdempotencyKey is { } known && await grains.IdempotencyKey(tenant, known).FindAsync() is { } existing
                ? Submitted(api, existing)
                : liveJobs.Refusal(context);
        }

        // With a key, the key's grain decides (a repeat gets the job the key still names); without, a new job.
        var reply = spec switch
        {
            { IdempotencyKey: { } key } => await grains.IdempotencyKey(tenant, key).SubmitAsync(spec),
            { SingletonKey: { } key } => await grains.SingletonKey(tenant, key).SubmitAsync(spec),
            _ => await grains.SubmitNewJobAsync(tenant, spec),
        };
        if (reply.Status == SubmitStatus.Accepted)
        {
            place.Keep();
        }

        if (reply.Refused)
        {
            return reply.Status == SubmitStatus.Unreadable // an agent_file outside the agents folder: 400, as upstream (a missing one is accepted; the job fails)
                ? ApiProblems.Problem(StatusCodes.Status400BadRequest, reply.Error)
                : ApiProblems.Validation(new Dictionary<string, string[]> { [reply.Field] = [reply.Error] });
        }

        if (!reply.HasJob)
        {
            throw new InvalidOperationException($"A submit answered {reply.Status}, which is neither a job nor a refusal.");
        }

        return Submitted(api, reply.Job);
    }

    /// <summary>The 202 of a submitted job (also a schedule's trigger): its URLs, <c>Location</c> and <c>Retry-After</c>.</summary>
    public static Accepted<SubmitResponse> Submitted(ApiServices api, JobSnapshot job)
    {
        var pollUrl = $"{api.ApiBase}/api/v1/runs/{job.JobId}";
        if (RunStatusResponse.RetryAfterSeconds(job.Status) is { } retryAfter)
        {
            api.Context.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return TypedResults.Accepted(pollUrl, new SubmitResponse(
            job.JobId, job.Status.ToWireName(), job.CreatedAt, pollUrl, pollUrl + "/stream", job.ScheduledFor));
    }

    private static async Task<Results<Ok<RunListResponse>, ProblemHttpResult>> ListAsync([AsParameters] ApiServices api)
    {
        if (!ListQueryReader.Read(api.Context.Request.Query, api.Tenant).TryGet(out var query, out var refused))
        {
            return refused;
        }

        var page = await api.Grains.GetGrain<IJobQueryGrain>(0).ListAsync(query);
        return TypedResults.Ok(new RunListResponse(
            page.Jobs.Select(RunStatusResponse.From).ToList(), page.Total, query.Page, query.PageSize));
    }

    private static async Task<Results<Ok<RunStatusResponse>, ProblemHttpResult>> GetStatusAsync(
        string jobId, [AsParameters] ApiServices api)
    {
        var job = JobIds.IsWellFormed(jobId) ? await api.Job(jobId).GetStatusAsync() : null;
        return job is null ? ApiProblems.NotFound(jobId) : TypedResults.Ok(RunStatusResponse.From(job));
    }

    private static async Task<Results<Ok<RunResultResponse>, ProblemHttpResult>> GetResultAsync(
        string jobId, [AsParameters] ApiServices api)
    {
        if (!JobIds.IsWellFormed(jobId))
        {
            return ApiProblems.NotFound(jobId);
        }

        var reply = await api.Job(jobId).GetResultAsync();
        return reply.Finished ? TypedResults.Ok(RunResultResponse.From(reply.Outcome))
            : reply.Found ? ApiProblems.Problem(StatusCodes.Status409Conflict, $"Job is not complete. Current status: {reply.Job.Status.ToWireName()}")
            : ApiProblems.NotFound(jobId);
    }

    private static async Task<Results<Ok<RunStatusResponse>, ProblemHttpResult>> CancelAsync(
        string jobId, [AsParameters] ApiServices api)
    {
        if (!JobIds.IsWellFormed(jobId))
        {
            return ApiProblems.NotFound(jobId);
        }

        var reply = await api.Job(jobId).CancelAsync();
        return !reply.Found ? ApiProblems.NotFound(jobId)
            : reply.Status == JobCommandStatus.Done ? TypedResults.Ok(RunStatusResponse.From(reply.Job))
            : ApiProblems.Problem(StatusCodes.Status400BadRequest, $"Job already completed (status: {reply.Job.Status.ToWireName()})");
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string jobId, [AsParameters] ApiServices api)
    {
        if (!JobIds.IsWellFormed(jobId))
        {
            return ApiProblems.NotFound(jobId);
        }

        var reply = await api.Job(jobId).DeleteAsync();
        return reply.Status switch
        {
            JobCommandStatus.Done => TypedResults.NoContent(),
            JobCommandStatus.WrongState => ApiProblems.Problem(StatusCodes.Status409Conflict,
                "Cannot delete a running job. Cancel it first."),
            _ => ApiProblems.NotFound(jobId),
        };
    }

    private static async Task<Results<ServerSentEventsResult<string>, ProblemHttpResult>> StreamAsync(
        string jobId, [AsParameters] ApiServices api, RunEventStream stream)
    {
        var context = api.Context;
        var lastEventId = context.Request.Headers["Last-Event-ID"].ToString();
        long after = 0;
        if (lastEventId.Length > 0 && (!long.TryParse(lastEventId, out after) || after < 0))
        {
            return ApiProblems.Problem(StatusCodes.Status400BadRequest,
                $"Invalid Last-Event-ID: {lastEventId} (expected the id of an event from this stream)");
        }

        var job = JobIds.IsWellFormed(jobId) ? api.Job(jobId) : null;
        if (job is null || await job.GetStatusAsync() is null)
        {
            return ApiProblems.NotFound(jobId);
        }

        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        return TypedResults.ServerSentEvents(stream.ReadAsync(job, jobId, after, context.RequestAborted));
    }
}
