using System.Text.Json.Serialization;
using Praison.Orleans.Gateway.Runs;

namespace Praison.Orleans.Gateway.Batches;

/// <summary>A batch's counts by status (docs/api.md "Batches").</summary>
public sealed record BatchCountsResponse(int Queued, int Running, int Succeeded, int Failed, int Cancelled, int Missing)
{
    public static BatchCountsResponse From(BatchCounts counts) =>
        new(counts.Queued, counts.Running, counts.Succeeded, counts.Failed, counts.Cancelled, counts.Missing);
}

/// <summary>
/// A batch: its status and counts, its then job, its links; a create's answer adds <see cref="JobIds"/>
/// (every job's id, in the order given), a read adds a page of <see cref="Jobs"/>.
/// </summary>
public sealed record BatchResponse(
    string BatchId,
    string Status,
    int Total,
    BatchCountsResponse Counts,
    bool Creating,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? CancelledAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ThenJobId,
    string PollUrl,
    string StreamUrl,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? JobIds = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<RunStatusResponse>? Jobs = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Page = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? PageSize = null)
{
    public static BatchResponse From(BatchSnapshot batch, string apiBase)
    {
        var pollUrl = $"{apiBase}/api/v1/batches/{batch.BatchId}";
        return new BatchResponse(
            batch.BatchId, batch.Status.ToWireName(), batch.Total, BatchCountsResponse.From(batch.Counts), batch.Creating,
            batch.CreatedAt, batch.CompletedAt, batch.CancelledAt, batch.ThenJobId, pollUrl, pollUrl + "/stream");
    }
}

/// <summary>The body of <c>POST /api/v1/batches</c>, for the API documents (the reader reads the JSON itself).</summary>
public sealed record SubmitBatchRequest(IReadOnlyList<SubmitRunRequest> Jobs, SubmitRunRequest? Then);
