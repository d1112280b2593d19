using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Praison.Orleans.Gateway.Runs;

// The bodies of /api/v1/runs, serialized in snake_case. Kept apart from the grain records: the HTTP
// contract (docs/api.md) and the wire contract change for different reasons.

/// <summary>
/// The submit body as documented (docs/api.md). The handler reads the body itself (<c>SubmitRequestReader</c>),
/// so that every malformed body gets its precise answer; this type only describes it.
/// </summary>
public sealed record SubmitRunRequest(
    string Prompt,
    string? RecipeName,
    JsonObject? RecipeConfig,
    string? AgentFile,
    string? AgentYaml,
    string? Framework,
    JsonObject? Config,
    string? WebhookUrl,
    int? Timeout,
    string? SessionId,
    string? IdempotencyKey,
    int? MaxAttempts,
    DateTimeOffset? RunAt,
    double? DelaySeconds,
    int? Priority,
    string? ConcurrencyKey,
    int? ConcurrencyLimit,
    string? SingletonKey,
    int? SingletonSeconds,
    IReadOnlyList<string>? DependsOn,
    string? RunIf);

public sealed record SubmitResponse(
    string JobId,
    string Status,
    DateTimeOffset CreatedAt,
    string PollUrl,
    string StreamUrl,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? ScheduledFor = null);

public sealed record RunListResponse(IReadOnlyList<RunStatusResponse> Jobs, int Total, int Page, int PageSize);

public sealed record ProgressResponse(double Percentage, string? CurrentStep, int StepsCompleted, int? StepsTotal);

public sealed record RunStatusResponse(
    string JobId,
    string Status,
    ProgressResponse Progress,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    string? AgentId,
    string? RunId,
    string? SessionId,
    string? Error,
    int? RetryAfter,
    int Attempt,
    int Priority,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? CancelledAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] WebhookResponse? Webhook,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? ScheduledFor,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ScheduleId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ConcurrencyKey,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Waiting,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? DependsOn,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RunIf,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? WaitingFor,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Dependants,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? BatchId)
{
    public static RunStatusResponse From(JobSnapshot job) => new(
        job.JobId,
        job.Status.ToWireName(),
        new ProgressResponse(job.Progress.Percentage, job.Progress.CurrentStep, job.Progress.StepsCompleted, job.Progress.StepsTotal),
        job.CreatedAt,
        job.StartedAt,
        job.CompletedAt,
        job.AgentId,
        job.JobId,
        job.SessionId,
        job.Error,
        RetryAfterSeconds(job.Status),
        job.Attempt,
        job.Priority,
        job.CancelledAt,
        job.Webhook is { } webhook ? new WebhookResponse(webhook.Pending, webhook.DeliveredAt, webhook.Error, webhook.NextRoundAt) : null,
        job.ScheduledFor,
        job.ScheduleId,
        job.ConcurrencyKey,
        job.Waiting,
        job.DependsOn,
        job.DependsOn is null ? null : WireNames.Of(job.RunIf),
        job.WaitingFor,
        job.Dependants,
        job.BatchId);

    /// <summary>The suggested poll interval: 2 s while queued, 5 s while running, none when terminal.</summary>
    public static int? RetryAfterSeconds(JobStatus status) => status switch
    {
        JobStatus.Queued => 2,
        JobStatus.Running => 5,
        _ => null,
    };
}

/// <summary>(beyond) Where the job's webhook stands: pending until delivered or given up; after a failed round, when the next may start.</summary>
public sealed record WebhookResponse(bool Pending, DateTimeOffset? DeliveredAt, string? Error, DateTimeOffset? NextRoundAt);

public sealed record RunResultResponse(
    string JobId,
    string Status,
    JsonNode? Result,
    string? ResultUrl,
    JsonNode? Metrics,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    double? DurationSeconds,
    string? Error)
{
    public static RunResultResponse From(JobOutcome outcome)
    {
        var job = outcome.Job;
        return new RunResultResponse(
            job.JobId,
            job.Status.ToWireName(),
            job.Status == JobStatus.Succeeded && outcome.ResultJson is { } json ? JsonNode.Parse(json) : null,
            null,
            JsonNode.Parse(outcome.MetricsJson) is JsonObject { Count: > 0 } metrics ? metrics : null, // null when none, as PraisonAI
            job.CreatedAt,
            job.StartedAt,
            job.CompletedAt,
            job is { StartedAt: { } started, CompletedAt: { } completed }
                ? Math.Max(0, (completed - started).TotalSeconds)
                : null,
            job.Error);
    }
}
