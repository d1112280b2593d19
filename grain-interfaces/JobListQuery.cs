namespace Praison.Orleans.GrainInterfaces;

/// <summary>A page request: newest first, optional filters.</summary>
[GenerateSerializer, Immutable, Alias("Praison.JobListQuery")]
public sealed record JobListQuery(
    [property: Id(0)] string Tenant,
    [property: Id(1)] JobStatus? Status,
    [property: Id(2)] string? SessionId,
    [property: Id(3)] int Page,
    [property: Id(4)] int PageSize,
    [property: Id(5)] string? ScheduleId = null,
    [property: Id(6)] int? Priority = null,
    [property: Id(7)] string? BatchId = null)
{
    /// <summary>Whether <paramref name="job"/> passes the status, session, schedule, priority and batch filters.</summary>
    public bool Matches(JobSnapshot job) =>
        (Status is not { } status || job.Status == status)
        && (string.IsNullOrEmpty(SessionId) || job.SessionId == SessionId)
        && (string.IsNullOrEmpty(ScheduleId) || job.ScheduleId == ScheduleId)
        && (Priority is not { } priority || job.Priority == priority)
        && (string.IsNullOrEmpty(BatchId) || job.BatchId == BatchId);

    /// <summary>True when only the status filter (or none) applies: the index's counts answer the total.</summary>
    public bool IsCounted => string.IsNullOrEmpty(SessionId) && string.IsNullOrEmpty(ScheduleId) && Priority is null && string.IsNullOrEmpty(BatchId);
}
