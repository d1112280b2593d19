using System.Text.Json;
using System.Text.Json.Serialization;

namespace Praison.Orleans.Gateway.Schedules;

/// <summary>A schedule as the API shows it (snake_case on the wire).</summary>
public sealed record ScheduleResponse(
    string ScheduleId,
    string Cron,
    string Timezone,
    ScheduledJobResponse Job,
    string Overlap,
    string CatchUp,
    bool Paused,
    DateTimeOffset? NextRunAt,
    DateTimeOffset? LastRunAt,
    string? LastJobId,
    long Runs,
    long Skipped,
    string? LastError,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ScheduledJobResponse>? Batch,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? LastBatchId)
{
    public static ScheduleResponse From(ScheduleSnapshot schedule) => new(
        schedule.ScheduleId,
        schedule.Spec.Cron,
        schedule.Spec.TimeZone,
        ScheduledJobResponse.From(schedule.Spec.Job),
        WireNames.Of(schedule.Spec.Overlap),
        WireNames.Of(schedule.Spec.CatchUp),
        schedule.Spec.Paused,
        schedule.NextRunAt,
        schedule.LastRunAt,
        schedule.LastJobId,
        schedule.Runs,
        schedule.Skipped,
        schedule.LastError,
        schedule.CreatedAt,
        schedule.UpdatedAt,
        schedule.Spec.Batch?.Select(ScheduledJobResponse.From).ToList(),
        schedule.LastBatchId);
}

/// <summary>The job each firing submits: the submit fields it was given.</summary>
public sealed record ScheduledJobResponse(
    string Prompt,
    string? RecipeName,
    JsonElement RecipeConfig,
    string? AgentFile,
    string? AgentYaml,
    string Framework,
    JsonElement Config,
    string? WebhookUrl,
    int Timeout,
    string? SessionId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int MaxAttempts,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int Priority,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ConcurrencyKey,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int ConcurrencyLimit,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? DependsOn,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RunIf)
{
    public static ScheduledJobResponse From(JobSpec job) => new(
        job.Prompt, job.RecipeName, Json(job.RecipeConfigJson), job.AgentFile, job.AgentYaml, job.Framework,
        Json(job.ConfigJson), job.WebhookUrl, job.TimeoutSeconds, job.SessionId, job.MaxAttempts, job.Priority,
        job.ConcurrencyKey, job.ConcurrencyLimit, job.DependsOn, job.DependsOn is null ? null : WireNames.Of(job.RunIf));

    private static JsonElement Json(string text)
    {
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }
}

public sealed record ScheduleListResponse(IReadOnlyList<ScheduleResponse> Schedules, int Total, int Page, int PageSize);

/// <summary>
/// The create body as documented (docs/api.md: Schedules); the handler reads the body itself
/// (<c>ScheduleRequestReader</c>), this type only describes it. <c>job</c> takes the submit fields
/// except <c>run_at</c>, <c>delay_seconds</c> and <c>idempotency_key</c>.
/// </summary>
public sealed record CreateScheduleRequest(
    string? ScheduleId, string Cron, string? Timezone, Runs.SubmitRunRequest Job, string? Overlap, string? CatchUp, bool? Paused,
    IReadOnlyList<Runs.SubmitRunRequest>? Batch);

/// <summary>The PATCH body: any of the create fields but the id (an empty <c>batch</c> takes the batch away).</summary>
public sealed record UpdateScheduleRequest(
    string? Cron, string? Timezone, Runs.SubmitRunRequest? Job, string? Overlap, string? CatchUp, bool? Paused,
    IReadOnlyList<Runs.SubmitRunRequest>? Batch);
