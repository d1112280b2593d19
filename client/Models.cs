using System.Text.Json;
using System.Text.Json.Nodes;

namespace Praison.Orleans.Client;

/// <summary>
/// A job to submit (docs/api.md "Submit"): <see cref="Prompt"/> and whichever other fields apply; a null
/// field is not sent and takes the server's default.
/// </summary>
public sealed record JobRequest(string Prompt)
{
    public string? RecipeName { get; init; }
    public JsonObject? RecipeConfig { get; init; }
    public string? AgentFile { get; init; }
    public string? AgentYaml { get; init; }
    public string? Framework { get; init; }
    public JsonObject? Config { get; init; }
    public string? WebhookUrl { get; init; }

    /// <summary>Seconds the job may run; null: the server's default.</summary>
    public int? Timeout { get; init; }

    public string? SessionId { get; init; }
    public int? MaxAttempts { get; init; }
    public int? Priority { get; init; }
    public string? ConcurrencyKey { get; init; }
    public int? ConcurrencyLimit { get; init; }
    public string? SingletonKey { get; init; }
    public int? SingletonSeconds { get; init; }
    public DateTimeOffset? RunAt { get; init; }
    public double? DelaySeconds { get; init; }

    /// <summary>Jobs (or batches) this one waits for; see <see cref="RunIf"/>.</summary>
    public IReadOnlyList<string>? DependsOn { get; init; }

    /// <summary><c>succeeded</c> (default), <c>finished</c> or <c>any_succeeded</c>: when a job with <see cref="DependsOn"/> runs.</summary>
    public string? RunIf { get; init; }
}

/// <summary>A submit's answer: the job, queued, and where to follow it.</summary>
public sealed record SubmittedJob(string JobId, string Status, DateTimeOffset CreatedAt, string PollUrl, string StreamUrl, DateTimeOffset? ScheduledFor);

/// <summary>How far a job has come.</summary>
public sealed record JobProgress(double Percentage, string? CurrentStep, int StepsCompleted, int? StepsTotal);

/// <summary>Where a job's webhook stands.</summary>
public sealed record JobWebhook(bool Pending, DateTimeOffset? DeliveredAt, string? Error, DateTimeOffset? NextRoundAt);

/// <summary>A job as its status endpoint shows it (<see cref="JobStatuses"/> names its states).</summary>
public sealed record JobInfo(
    string JobId,
    string Status,
    JobProgress Progress,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    string? AgentId,
    string? SessionId,
    string? Error,
    int? RetryAfter,
    int Attempt,
    int Priority)
{
    public DateTimeOffset? CancelledAt { get; init; }
    public JobWebhook? Webhook { get; init; }
    public DateTimeOffset? ScheduledFor { get; init; }
    public string? ScheduleId { get; init; }
    public string? ConcurrencyKey { get; init; }
    public string? Waiting { get; init; }
    public IReadOnlyList<string>? DependsOn { get; init; }
    public string? RunIf { get; init; }
    public IReadOnlyList<string>? WaitingFor { get; init; }
    public IReadOnlyList<string>? Dependants { get; init; }
    public string? BatchId { get; init; }

    /// <summary>True once the job has ended: succeeded, failed or cancelled.</summary>
    public bool IsFinished => JobStatuses.IsFinished(Status);
}

/// <summary>The job states the API names.</summary>
public static class JobStatuses
{
    public const string Queued = "queued", Running = "running", Succeeded = "succeeded", Failed = "failed", Cancelled = "cancelled";

    public static bool IsFinished(string status) => status is Succeeded or Failed or Cancelled;
}

/// <summary>A finished job's outcome: its result (any JSON) when it succeeded, its error otherwise.</summary>
public sealed record JobResult(
    string JobId,
    string Status,
    JsonElement? Result,
    JsonElement? Metrics,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    double? DurationSeconds,
    string? Error);

/// <summary>A page of the tenant's jobs, newest first.</summary>
public sealed record JobPage(IReadOnlyList<JobInfo> Jobs, int Total, int Page, int PageSize);

/// <summary>Which jobs <see cref="PraisonJobsClient.ListAsync"/> lists; null fields do not filter.</summary>
public sealed record JobListFilter
{
    public string? Status { get; init; }
    public string? SessionId { get; init; }
    public string? ScheduleId { get; init; }
    public string? BatchId { get; init; }
    public int? Priority { get; init; }

    /// <summary>Jobs per request, 1–100. Default: 100.</summary>
    public int PageSize { get; init; } = 100;
}
