using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Praison.Orleans.Gateway.Docs;
using Praison.Orleans.Gateway.Runs;

namespace Praison.Orleans.Gateway.Batches;

/// <summary>
/// <c>/api/v1/batches</c> (docs/api.md "Batches"): each handler maps one request to the
/// <see cref="IBatchGrain"/> (a read's page adds its jobs' statuses).
/// </summary>
internal static class BatchesApi
{
    /// <summary>How long a create waits for the batch's jobs to exist before it answers 202 (still creating) instead of 201.</summary>
    public static readonly TimeSpan CreateWait = TimeSpan.FromSeconds(20);

    public static RouteGroupBuilder MapBatchesApi(this IEndpointRouteBuilder app)
    {
        var bodyLimit = app.ServiceProvider.GetRequiredService<IOptions<ApiOptions>>().Value.MaxBatchBodyBytes;
        var batches = app.MapGroup("/api/v1/batches").WithTags("Batches");
        batches.MapPost("/", CreateAsync).WithName("CreateBatch").RequireRateLimiting(SubmitQuotas.RatePolicy)
            .WithMetadata(new RequestBodyDoc(typeof(SubmitBatchRequest)), new BodyLimit(bodyLimit))
            .WithMetadata(new RequestHeaderDoc("Idempotency-Key", "Create safely twice: a repeat answers with the batch the key names.", IIdempotencyGrain.MaxKeyLength))
            .WithDescription("Creates a batch of 1–10,000 jobs, and an optional then job that depends on them all. 201 with Location once every job "
                + "exists; 202 while they are still being created (stored: creation goes on). 413 over Api:MaxBatchBodyBytes; 422 naming jobs[i].field; "
                + "429 past the submit rate (a batch is one submit) or when its jobs do not fit the tenant's live jobs.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        batches.MapGet("/{batchId}", GetAsync).WithName("GetBatch")
            .WithDescription("The batch, its counts by status, and a page of its jobs in the order given (page, page_size).")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);
        batches.MapGet("/{batchId}/stream", StreamAsync).WithName("StreamBatch")
            .WithDescription("Server-Sent Events: `batch` (the batch, without jobs) now and as its counts change, a `heartbeat` after 5 s idle, "
                + "then one `end` (the ended batch), and the stream closes.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        batches.MapPost("/{batchId}/cancel", CancelAsync).WithName("CancelBatch")
            .WithDescription("Cancels every live job of the batch, creates no more, and cancels its then job.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        batches.MapDelete("/{batchId}", DeleteAsync).WithName("DeleteBatch")
            .WithDescription("Deletes the ended batch, its jobs and its then job; 409 while any is live or a job waits on the batch.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return batches;
    }

    private static async Task<Results<Created<BatchResponse>, Accepted<BatchResponse>, ProblemHttpResult>> CreateAsync([AsParameters] ApiServices api)
    {
        var idempotencyKey = api.Context.Request.Headers["Idempotency-Key"].ToString();
        if (idempotencyKey.Length > IIdempotencyGrain.MaxKeyLength)
        {
            return ApiProblems.Validation(new Dictionary<string, string[]> { ["Idempotency-Key"] = [$"Must be at most {IIdempotencyGrain.MaxKeyLength} characters"] });
        }

        if (!(await BatchRequestReader.ReadAsync(api.Context.Request, api.Limits, api.Time.GetUtcNow(), api.Aborted)).TryGet(out var spec, out var refused))
        {
            return refused;
        }

        if (await WebhookProblemAsync(api, spec) is { } webhookProblem)
        {
            return webhookProblem;
        }

        spec = new BatchSpec([.. spec.Jobs.Select(api.WithApiBase)], spec.Then is { } then ? api.WithApiBase(then) : null);
        var batchId = idempotencyKey.Length > 0 ? JobIds.DerivedBatch($"{api.Tenant}/{idempotencyKey}") : null; // the same key, the same batch
        if (batchId is not null && await api.Grains.Batch(api.Tenant, batchId).GetAsync() is not null)
        {
            return await AnsweredAsync(api, batchId); // a repeat: the batch the key names, creating nothing
        }

        var jobs = spec.Jobs.Count + (spec.Then is null ? 0 : 1);
        using var places = await api.LiveJobs.TryTakeAsync(api.Tenant, jobs);
        if (places is null)
        {
            return api.LiveJobs.Refusal(api.Context);
        }

        for (var draw = 0; ; draw++)
        {
            var id = batchId ?? JobIds.NewBatch();
            var reply = await api.Grains.Batch(api.Tenant, id).CreateAsync(spec);
            switch (reply.Status)
            {
                case BatchCommandStatus.Done:
                    places.Keep();
                    return await AnsweredAsync(api, id);
                case BatchCommandStatus.IdTaken when batchId is not null: // two requests with one key raced: the other made it
                    return await AnsweredAsync(api, id);
                case BatchCommandStatus.IdTaken when draw < 5:
                    continue;
                case BatchCommandStatus.Rejected:
                    return ApiProblems.Validation(new Dictionary<string, string[]> { [reply.Field!] = [reply.Error!] });
                default:
                    throw new InvalidOperationException($"A batch create answered {reply.Status}.");
            }
        }
    }

    /// <summary>The create's answer, once the jobs exist or after <see cref="CreateWait"/>: 201, or 202 while still creating.</summary>
    private static async Task<Results<Created<BatchResponse>, Accepted<BatchResponse>, ProblemHttpResult>> AnsweredAsync(ApiServices api, string batchId)
    {
        var batch = api.Grains.Batch(api.Tenant, batchId);
        if (await batch.AwaitCreatedAsync(CreateWait) is not { } created)
        {
            return ApiProblems.BatchNotFound(batchId);
        }

        var body = BatchResponse.From(created, api.ApiBase) with { JobIds = await batch.JobIdsAsync(0, BatchSpec.MaxJobs) };
        return created.Creating ? TypedResults.Accepted(body.PollUrl, body) : TypedResults.Created(body.PollUrl, body);
    }

    /// <summary>Each distinct webhook target of the batch's jobs, checked once (422 naming the first job that gives a bad one).</summary>
    private static Task<ProblemHttpResult?> WebhookProblemAsync(ApiServices api, BatchSpec spec) =>
        api.Webhooks.FirstProblemAsync(
            spec.Jobs.Select((job, i) => (job.WebhookUrl, $"jobs[{i}].webhook_url")).Append((spec.Then?.WebhookUrl, "then.webhook_url")), api.Aborted);

    private static async Task<Results<Ok<BatchResponse>, ProblemHttpResult>> GetAsync(string batchId, [AsParameters] ApiServices api)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var (page, pageSize) = PageQuery.Read(api.Context.Request.Query, errors);
        if (errors.Count > 0)
        {
            return ApiProblems.Validation(errors);
        }

        var batch = JobIds.IsWellFormedBatch(batchId) ? api.Grains.Batch(api.Tenant, batchId) : null;
        if (batch is null || await batch.GetAsync() is not { } found)
        {
            return ApiProblems.BatchNotFound(batchId);
        }

        var ids = await batch.JobIdsAsync((int)Math.Min(int.MaxValue, (long)(page - 1) * pageSize), pageSize) ?? [];
        var jobs = await Task.WhenAll(ids.Select(id => api.Job(id).GetStatusAsync()));
        return TypedResults.Ok(BatchResponse.From(found, api.ApiBase) with
        {
            Jobs = [.. jobs.OfType<JobSnapshot>().Select(RunStatusResponse.From)],
            Page = page,
            PageSize = pageSize,
        });
    }

    private static async Task<Results<Ok<BatchResponse>, ProblemHttpResult>> CancelAsync(string batchId, [AsParameters] ApiServices api)
    {
        var reply = JobIds.IsWellFormedBatch(batchId) ? await api.Grains.Batch(api.Tenant, batchId).CancelAsync() : null;
        return reply switch
        {
            { Status: BatchCommandStatus.Done, Batch: { } batch } => TypedResults.Ok(BatchResponse.From(batch, api.ApiBase)),
            { Status: BatchCommandStatus.WrongState, Batch: { } batch } =>
                ApiProblems.Problem(StatusCodes.Status400BadRequest, $"Batch already completed (status: {batch.Status.ToWireName()})"),
            _ => ApiProblems.BatchNotFound(batchId),
        };
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string batchId, [AsParameters] ApiServices api)
    {
        var reply = JobIds.IsWellFormedBatch(batchId) ? await api.Grains.Batch(api.Tenant, batchId).DeleteAsync() : null;
        return reply switch
        {
            { Status: BatchCommandStatus.Done } => TypedResults.NoContent(),
            { Status: BatchCommandStatus.WrongState, Error: { } error } => ApiProblems.Problem(StatusCodes.Status409Conflict, error),
            _ => ApiProblems.BatchNotFound(batchId),
        };
    }

    private static async Task<Results<ServerSentEventsResult<string>, ProblemHttpResult>> StreamAsync(
        string batchId, [AsParameters] ApiServices api, IOptions<JsonOptions> json)
    {
        var batch = JobIds.IsWellFormedBatch(batchId) ? api.Grains.Batch(api.Tenant, batchId) : null;
        if (batch is null || await batch.GetAsync() is null)
        {
            return ApiProblems.BatchNotFound(batchId);
        }

        api.Context.Response.Headers.CacheControl = "no-cache";
        api.Context.Response.Headers["X-Accel-Buffering"] = "no";
        return TypedResults.ServerSentEvents(Events(batch, api.ApiBase, json.Value.SerializerOptions, api.Context.RequestAborted));
    }

    /// <summary>
    /// The batch's snapshots as SSE: <c>batch</c> for each, <c>end</c> for the last, a <c>heartbeat</c>
    /// after <see cref="RunEventStream.HeartbeatAfter"/> without one. A break (the batch's silo lost)
    /// watches again, and the next snapshot says all that was missed.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<string>> Events(
        IBatchGrain batch, string apiBase, JsonSerializerOptions json, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var rewatch = 0; rewatch <= MaxRewatches && !cancellationToken.IsCancellationRequested; rewatch++)
        {
            var watch = batch.WatchAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
            try
            {
                Task<bool>? next = null;
                while (!cancellationToken.IsCancellationRequested)
                {
                    next ??= watch.MoveNextAsync().AsTask();
                    if (!await ArrivesAsync(next, cancellationToken))
                    {
                        yield return new SseItem<string>(JsonSerializer.Serialize(new { timestamp = DateTimeOffset.UtcNow }, json), "heartbeat");
                        continue;
                    }

                    var moved = await SettledAsync(next);
                    next = null;
                    if (moved is null)
                    {
                        break; // broke: watch again
                    }

                    if (moved == false)
                    {
                        yield break; // the batch is gone (deleted)
                    }

                    rewatch = 0;
                    var snapshot = watch.Current;
                    var ended = snapshot.CompletedAt is not null;
                    yield return new SseItem<string>(JsonSerializer.Serialize(BatchResponse.From(snapshot, apiBase), json), ended ? "end" : "batch");
                    if (ended)
                    {
                        yield break;
                    }
                }
            }
            finally
            {
                await SettledAsync(watch.DisposeAsync().AsTask().ContinueWith(_ => true, TaskScheduler.Default));
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100 * (rewatch + 1)), cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private const int MaxRewatches = 20;

    /// <summary>True once <paramref name="next"/> has completed, false after <see cref="RunEventStream.HeartbeatAfter"/> without (or the client gone).</summary>
    private static async Task<bool> ArrivesAsync(Task<bool> next, CancellationToken cancellationToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var arrived = await Task.WhenAny(next, Task.Delay(RunEventStream.HeartbeatAfter, idle.Token)) == next;
        await idle.CancelAsync();
        return arrived || cancellationToken.IsCancellationRequested;
    }

    /// <summary>What a watch's step said: moved (true), ended (false), or broke (null: its silo lost, the client gone).</summary>
    private static async Task<bool?> SettledAsync(Task<bool> step)
    {
        try
        {
            return await step;
        }
        catch (Exception exception) when (exception is EnumerationAbortedException or OrleansException or TimeoutException or OperationCanceledException)
        {
            return null;
        }
    }
}
