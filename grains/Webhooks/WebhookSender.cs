using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Praison.Orleans.Grains.Webhooks;

/// <summary>The body POSTed to a job's <c>webhook_url</c> when it ends (README: API, webhooks).</summary>
public sealed record WebhookPayload(
    string JobId, string Status, System.Text.Json.Nodes.JsonNode? Result, string? Error, string? CompletedAt, double? DurationSeconds);

/// <summary>
/// Sends one webhook, signed when a secret is configured, through the <see cref="ClientName"/> client,
/// whose resilience pipeline retries with exponential backoff until a 2xx or the attempts run out.
/// </summary>
public sealed class WebhookSender(IHttpClientFactory clients, IOptions<WebhookOptions> options)
{
    public const string ClientName = "webhooks";

    public const string SignatureHeader = "X-Praison-Signature";

    /// <summary>The reason a delivery to a host with no address webhooks may reach is given up.</summary>
    public const string TargetRefused = "target address not allowed";

    private const string NotFollowed = ": redirects are not followed";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Null when delivered (a 2xx), otherwise why the last attempt failed.</summary>
    public async Task<string?> DeliverAsync(string url, WebhookPayload payload, CancellationToken cancellationToken)
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
            return response.IsSuccessStatusCode ? null
                : IsRedirect(response) ? $"HTTP {(int)response.StatusCode}{NotFollowed}"
                : $"HTTP {(int)response.StatusCode}";
        }
        catch (Exception exception) when (IsRefusedTarget(exception))
        {
            return TargetRefused;
        }
        catch (Exception exception) when (exception is TimeoutException or Polly.Timeout.TimeoutRejectedException
                                           || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return "timed out";
        }
        catch (HttpRequestException)
        {
            // Never the exception's text: it names addresses and ports, which would make webhooks a port scanner.
            return "connection failed";
        }
    }

    /// <summary>
    /// After a round that failed with <paramref name="error"/> (round number <paramref name="rounds"/>) for a
    /// job that ended at <paramref name="endedAt"/>: when the next round may start, or null to give up —
    /// past <see cref="WebhookOptions.RetryHorizon"/>, or for a refused target or a redirect, which would
    /// answer the same every time.
    /// </summary>
    public DateTimeOffset? NextRoundAt(string error, int rounds, DateTimeOffset endedAt, DateTimeOffset now)
    {
        if (error == TargetRefused || error.EndsWith(NotFollowed, StringComparison.Ordinal))
        {
            return null;
        }

        var o = options.Value;
        var wait = TimeSpan.FromTicks(Math.Min(o.FirstRoundDelay.Ticks << Math.Min(rounds - 1, 20), o.LongestRoundDelay.Ticks));
        return now + wait <= endedAt + o.RetryHorizon ? now + wait : null;
    }

    /// <summary>True for a delivery refused because its host has no address webhooks may reach.</summary>
    public static bool IsRefusedTarget(Exception exception) =>
        exception is WebhookTargetRefusedException || exception.InnerException is WebhookTargetRefusedException;

    public static bool IsRedirect(HttpResponseMessage response) => (int)response.StatusCode is >= 300 and < 400;

    /// <summary><c>sha256=</c> and the lowercase hex HMAC-SHA256 of <paramref name="body"/>.</summary>
    public static string Sign(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));
}
