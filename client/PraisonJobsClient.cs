using System.Globalization;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Praison.Orleans.Client;

/// <summary>
/// The job system's HTTP API, typed (docs/api.md). Made by <see cref="PraisonJobsServiceCollectionExtensions.AddPraisonJobsClient"/>
/// on an <see cref="HttpClient"/> from <c>IHttpClientFactory</c> (its base address, key and retries), or on
/// any <see cref="HttpClient"/> whose <see cref="HttpClient.BaseAddress"/> is the gateway. Every refusal is a
/// <see cref="PraisonJobsException"/> carrying the server's problem JSON.
/// </summary>
public sealed partial class PraisonJobsClient(HttpClient http)
{
    /// <summary>How long a stream may stay silent before it is read as dropped (the server sends a heartbeat after 5 s idle).</summary>
    public static readonly TimeSpan SilentStream = TimeSpan.FromSeconds(30);

    /// <summary>Submits a job; with <paramref name="idempotencyKey"/>, a repeat answers the job the key names and creates nothing.</summary>
    public Task<SubmittedJob> SubmitAsync(JobRequest job, string? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        return SendAsync(Posting("api/v1/runs", JsonContent.Create(job, ClientJson.Default.JobRequest), idempotencyKey),
            ClientJson.Default.SubmittedJob, cancellationToken);
    }

    /// <summary>The job's status.</summary>
    public Task<JobInfo> GetAsync(string jobId, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/runs/{Escaped(jobId)}", ClientJson.Default.JobInfo, cancellationToken);

    /// <summary>The finished job's outcome; a 409 <see cref="PraisonJobsException"/> while it has not finished.</summary>
    public Task<JobResult> GetResultAsync(string jobId, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/runs/{Escaped(jobId)}/result", ClientJson.Default.JobResult, cancellationToken);

    /// <summary>
    /// The succeeded job's result as <typeparamref name="T"/>, read with <paramref name="resultType"/> (a
    /// source-generated contract, so this stays AOT-safe); default when it has no result (it failed or was cancelled).
    /// </summary>
    public async Task<T?> GetResultAsync<T>(string jobId, JsonTypeInfo<T> resultType, CancellationToken cancellationToken = default)
    {
        var outcome = await GetResultAsync(jobId, cancellationToken);
        return outcome.Result is { ValueKind: not JsonValueKind.Null } result ? result.Deserialize(resultType) : default;
    }

    /// <summary>Cancels a queued or running job; a 400 <see cref="PraisonJobsException"/> once it has ended.</summary>
    public Task<JobInfo> CancelAsync(string jobId, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/runs/{Escaped(jobId)}/cancel", ClientJson.Default.JobInfo, cancellationToken);

    /// <summary>Deletes a finished job; a 409 <see cref="PraisonJobsException"/> while it runs.</summary>
    public Task DeleteAsync(string jobId, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, $"api/v1/runs/{Escaped(jobId)}", cancellationToken);

    /// <summary>The tenant's jobs, newest first, page by page as they are read (at most the server's list depth).</summary>
    public async IAsyncEnumerable<JobInfo> ListAsync(JobListFilter? filter = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        filter ??= new JobListFilter();
        for (var page = 1; ; page++)
        {
            var query = Query(filter, page);
            var read = await SendAsync(HttpMethod.Get, "api/v1/runs?" + query, ClientJson.Default.JobPage, cancellationToken);
            foreach (var job in read.Jobs)
            {
                yield return job;
            }

            if (read.Jobs.Count < filter.PageSize || (long)page * filter.PageSize >= read.Total)
            {
                yield break;
            }
        }
    }

    /// <summary>The caller's concurrency keys that live jobs hold or wait for, across the cluster (docs/api.md "Flow control").</summary>
    public Task<ConcurrencyKeys> GetConcurrencyKeysAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, "api/v1/concurrency-keys", ClientJson.Default.ConcurrencyKeys, cancellationToken);

    /// <summary>
    /// The job's events as they happen, from after <paramref name="afterEventId"/> (null: from its start),
    /// ending after its final event. A dropped connection (or one silent past <see cref="SilentStream"/>)
    /// is opened again with <c>Last-Event-ID</c>, so no event is lost or repeated.
    /// </summary>
    public IAsyncEnumerable<JobEvent> StreamAsync(string jobId, long? afterEventId = null, CancellationToken cancellationToken = default) =>
        FollowAsync(new EventStream<JobEvent>($"api/v1/runs/{Escaped(jobId)}/stream", ToEvent, e => e.IsFinal, e => e.Id), afterEventId, cancellationToken);

    /// <summary>
    /// Waits until the job has ended and returns its status: follows its stream, and polls (as its
    /// <c>retry_after</c> says) should the stream fail.
    /// </summary>
    public Task<JobInfo> WaitAsync(string jobId, CancellationToken cancellationToken = default) =>
        UntilFinishedAsync(StreamAsync(jobId, null, cancellationToken), e => e.IsFinal, () => GetAsync(jobId, cancellationToken),
            job => job.IsFinished ? null : TimeSpan.FromSeconds(job.RetryAfter ?? 2), cancellationToken);

    private static JobEvent ToEvent(SseItem<string> item)
    {
        var id = long.TryParse(item.EventId, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : (long?)null;
        var data = item.Data.Length == 0 ? null : JsonSerializer.Deserialize(item.Data, ClientJson.Default.JobEventData);
        return new JobEvent(item.EventType, id)
        {
            Status = data?.Status,
            Percentage = data?.Percentage,
            Step = data?.Step,
            Result = data?.Result,
            Error = data?.Error,
            Message = data?.Message,
        };
    }

    private async Task SendAsync(HttpMethod method, string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
    }

    private Task<T> SendAsync<T>(HttpMethod method, string path, JsonTypeInfo<T> type, CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(method, path), type, cancellationToken);

    /// <summary>A POST of <paramref name="body"/>, naming <paramref name="idempotencyKey"/> when there is one.</summary>
    private static HttpRequestMessage Posting(string path, HttpContent body, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = body };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return request;
    }

    /// <summary>Sends <paramref name="request"/> (and disposes it) and reads its answer as <paramref name="type"/>.</summary>
    private async Task<T> SendAsync<T>(HttpRequestMessage request, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var owned = request;
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        // The body is already buffered (the default completion): read it where it lies, without an async read loop.
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        return JsonSerializer.Deserialize(body, type)
            ?? throw new PraisonJobsException($"The job system answered {(int)response.StatusCode} with no body.");
    }

    /// <summary>Throws the server's refusal as a <see cref="PraisonJobsException"/> with its problem JSON.</summary>
    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        ProblemDetails? problem = null;
        if (response.Content.Headers.ContentType?.MediaType is "application/problem+json" or "application/json")
        {
            try
            {
                problem = await response.Content.ReadFromJsonAsync(ClientJson.Default.ProblemDetails, cancellationToken);
            }
            catch (JsonException)
            {
                // Not problem JSON after all: the status says what there is to say.
            }
        }

        var retryAfter = response.Headers.RetryAfter is { } header
            ? header.Delta ?? (header.Date is { } at ? at - DateTimeOffset.UtcNow : null)
            : null;
        throw new PraisonJobsException(response.StatusCode, problem, retryAfter);
    }

    private static string Escaped(string id) => Uri.EscapeDataString(id);

    private static string Query(JobListFilter filter, int page)
    {
        var parts = new List<string> { $"page={page}", $"page_size={filter.PageSize}" };
        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                parts.Add($"{name}={Uri.EscapeDataString(value)}");
            }
        }

        Add("status", filter.Status);
        Add("session_id", filter.SessionId);
        Add("schedule_id", filter.ScheduleId);
        Add("batch_id", filter.BatchId);
        Add("priority", filter.Priority?.ToString(CultureInfo.InvariantCulture));
        return string.Join('&', parts);
    }
}
