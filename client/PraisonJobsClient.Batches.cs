using System.Globalization;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text.Json;

namespace Praison.Orleans.Client;

public sealed partial class PraisonJobsClient
{
    /// <summary>
    /// Submits a batch (docs/api.md "Batches"). Its answer names every job (<see cref="BatchInfo.JobIds"/>, in
    /// the order given) and its then job; <see cref="BatchInfo.Creating"/> when the server was still creating
    /// them after 20 s (it goes on). With <paramref name="idempotencyKey"/>, a repeat answers the batch the key
    /// names and creates nothing.
    /// </summary>
    public Task<BatchInfo> SubmitBatchAsync(BatchRequest batch, string? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return SendAsync(Posting("api/v1/batches", JsonContent.Create(batch, ClientJson.Default.BatchRequest), idempotencyKey),
            ClientJson.Default.BatchInfo, cancellationToken);
    }

    /// <summary>The batch's status and counts, with page <paramref name="page"/> of its jobs (<paramref name="pageSize"/>, 1–100) in the order given.</summary>
    public Task<BatchInfo> GetBatchAsync(string batchId, int page = 1, int pageSize = 100, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, string.Create(CultureInfo.InvariantCulture, $"api/v1/batches/{Escaped(batchId)}?page={page}&page_size={pageSize}"),
            ClientJson.Default.BatchInfo, cancellationToken);

    /// <summary>
    /// The batch as its counts change, until it has ended (the last one is <see cref="BatchInfo.IsFinished"/>).
    /// Each says all there is (without its jobs), so a slow reader gets the latest; a dropped connection is
    /// opened again.
    /// </summary>
    public IAsyncEnumerable<BatchInfo> StreamBatchAsync(string batchId, CancellationToken cancellationToken = default) =>
        FollowAsync(new EventStream<BatchInfo>($"api/v1/batches/{Escaped(batchId)}/stream", ToBatch, batch => batch.IsFinished), null, cancellationToken);

    /// <summary>
    /// Waits until every job of the batch has ended and returns the batch (with the first page of its
    /// jobs): follows its stream, and polls should the stream fail.
    /// </summary>
    public Task<BatchInfo> WaitBatchAsync(string batchId, CancellationToken cancellationToken = default) =>
        UntilFinishedAsync(StreamBatchAsync(batchId, cancellationToken), batch => batch.IsFinished, () => GetBatchAsync(batchId, cancellationToken: cancellationToken),
            batch => batch.IsFinished ? null : TimeSpan.FromSeconds(2), cancellationToken);

    /// <summary>Cancels the batch: no more of its jobs are created, and its live jobs and then job are cancelled; a 400 <see cref="PraisonJobsException"/> once it has ended.</summary>
    public Task<BatchInfo> CancelBatchAsync(string batchId, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/batches/{Escaped(batchId)}/cancel", ClientJson.Default.BatchInfo, cancellationToken);

    /// <summary>Deletes the ended batch with its jobs and then job; a 409 <see cref="PraisonJobsException"/> while any is live or a dependant waits.</summary>
    public Task DeleteBatchAsync(string batchId, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, $"api/v1/batches/{Escaped(batchId)}", cancellationToken);

    /// <summary>A batch stream's <c>batch</c> and <c>end</c> events; heartbeats are skipped.</summary>
    private static BatchInfo? ToBatch(SseItem<string> item) =>
        item.EventType is "batch" or "end" ? JsonSerializer.Deserialize(item.Data, ClientJson.Default.BatchInfo) : null;
}
