using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace Praison.Orleans.Grains.Webhooks;

/// <summary>
/// The body POSTed to a job's <c>webhook_url</c> when it ends (docs/api.md: Webhooks). A result longer
/// than <see cref="WebhookOptions.MaxResultChars"/> is not carried: <see cref="ResultUrl"/> says where to
/// read it instead.
/// </summary>
public sealed record WebhookPayload(
    string JobId, string Status, JsonNode? Result, string? Error, string? CompletedAt, double? DurationSeconds,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ResultUrl = null);

/// <summary>
/// How one delivery round ended: delivered (no <see cref="Error"/>), or failed — for good
/// (<see cref="Permanent"/>: the target would answer the same every time) or until a later round, no
/// earlier than the receiver's <see cref="RetryAfter"/> when it gave one.
/// </summary>
public sealed record WebhookRound(string? Error, bool Permanent = false, TimeSpan? RetryAfter = null)
{
    public static readonly WebhookRound Delivered = new((string?)null);

    public bool WasDelivered => Error is null;
}

/// <summary>
/// Sends one webhook, signed when a secret is configured, through the <see cref="ClientName"/> client,
/// whose resilience pipeline retries with exponential backoff (or the receiver's <c>Retry-After</c>)
/// while the answer may change: a 5xx, 408, 409, 425 or 429, a timeout or a failed connection. Any other
/// 4xx, a redirect or a refused target ends the delivery for good.
/// </summary>
public sealed class WebhookSender(IHttpClientFactory clients, IOptions<WebhookOptions> options, TimeProvider time)
{
    public const string ClientName = "webhooks";

    public const string SignatureHeader = "X-Praison-Signature";

    /// <summary>The reason a delivery to a host with no address webhooks may reach is given up.</summary>
    public const string TargetRefused = "target address not allowed";

    private const string NotFollowed = ": redirects are not followed";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>
    /// The payload of a job that ended as given; its result (JSON text) is carried when it is at most
    /// <see cref="WebhookOptions.MaxResultChars"/> long, else replaced by a link to the job's result.
    /// </summary>
    public WebhookPayload PayloadOf(
        string jobId, JobStatus status, string? resultJson, string? error, DateTimeOffset? startedAt, DateTimeOffset? completedAt,
        string? apiBaseUrl)
    {
        var withheld = resultJson is { } json && json.Length > options.Value.MaxResultChars;
        return new WebhookPayload(
            jobId,
            status.ToWireName(),
            status == JobStatus.Succeeded && resultJson is { } kept && !withheld ? JsonNode.Parse(kept) : null,
            error,
            completedAt?.ToApiString(),
            startedAt is { } started && completedAt is { } completed ? (completed - started).TotalSeconds : null,
            withheld ? $"{apiBaseUrl}/api/v1/runs/{jobId}/result" : null);
    }

    /// <summary>One round: the first attempt and the pipeline's retries.</summary>
    public async Task<WebhookRound> DeliverAsync(string url, WebhookPayload payload, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(payload, Json);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        if (options.Value.SigningSecret is { Length: > 0 } secret)
        {
            request.Headers.Add(SignatureHeader, Sign(secret, body));
        }

        try
        {
            using var response = await clients.CreateClient(ClientName).SendAsync(request, cancellationToken);
            var status = (int)response.StatusCode;
            return response.IsSuccessStatusCode ? WebhookRound.Delivered
                : IsRedirect(response) ? new WebhookRound($"HTTP {status}{NotFollowed}", Permanent: true)
                : new WebhookRound($"HTTP {status}", Permanent: !MayChange(status), RetryAfterOf(response));
        }
        catch (Exception exception) when (IsRefusedTarget(exception))
        {
            return new WebhookRound(TargetRefused, Permanent: true);
        }
        catch (Exception exception) when (exception is TimeoutException or Polly.Timeout.TimeoutRejectedException
                                           || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return new WebhookRound("timed out");
        }
        catch (HttpRequestException)
        {
            // Never the exception's text: it names addresses and ports, which would make webhooks a port scanner.
            return new WebhookRound("connection failed");
        }
    }

    /// <summary>
    /// After a failed <paramref name="round"/> (round number <paramref name="rounds"/>) of a job that ended
    /// at <paramref name="endedAt"/>: when the next round may start — the doubling gap between rounds,
    /// or the receiver's <c>Retry-After</c> when later — or null to give up: a permanent failure, or a
    /// next round past <see cref="WebhookOptions.RetryHorizon"/>.
    /// </summary>
    public DateTimeOffset? NextRoundAt(WebhookRound round, int rounds, DateTimeOffset endedAt, DateTimeOffset now)
    {
        if (round.Permanent)
        {
            return null;
        }

        var o = options.Value;
        var wait = TimeSpan.FromTicks(Math.Min(o.FirstRoundDelay.Ticks << Math.Min(rounds - 1, 20), o.LongestRoundDelay.Ticks));
        if (round.RetryAfter > wait)
        {
            wait = round.RetryAfter.Value;
        }

        return now + wait <= endedAt + o.RetryHorizon ? now + wait : null;
    }

    /// <summary>
    /// True for an answer a later attempt may not repeat: a 5xx, or 408 (timeout), 409 (conflict), 425
    /// (too early) and 429 (too many requests). Any other 4xx says the request itself is refused.
    /// </summary>
    public static bool MayChange(int status) => status >= 500 || status is 408 or 409 or 425 or 429;

    /// <summary>Whether the pipeline retries <paramref name="response"/> within the round: it may change, and soon enough.</summary>
    public bool RetriesWithinTheRound(HttpResponseMessage response) =>
        !response.IsSuccessStatusCode && !IsRedirect(response) && MayChange((int)response.StatusCode)
        && !(RetryAfterOf(response) > options.Value.FirstRoundDelay);

    /// <summary>The receiver's <c>Retry-After</c> (seconds or a date) from now; null when it gave none.</summary>
    private TimeSpan? RetryAfterOf(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta < TimeSpan.Zero ? TimeSpan.Zero : delta,
        { Date: { } date } => date > time.GetUtcNow() ? date - time.GetUtcNow() : TimeSpan.Zero,
        _ => null,
    };

    /// <summary>True for a delivery refused because its host has no address webhooks may reach.</summary>
    public static bool IsRefusedTarget(Exception exception) =>
        exception is WebhookTargetRefusedException || exception.InnerException is WebhookTargetRefusedException;

    public static bool IsRedirect(HttpResponseMessage response) => (int)response.StatusCode is >= 300 and < 400;

    /// <summary><c>sha256=</c> and the lowercase hex HMAC-SHA256 of <paramref name="body"/>.</summary>
    public static string Sign(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));
}
