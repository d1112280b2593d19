using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Praison.Orleans.Gateway.Http;

/// <summary>
/// Checks a submit's <c>webhook_url</c> (docs/api.md: Webhooks): http or https, a host of at most 253 characters, and —
/// unless private targets are allowed — a host that is not, and does not resolve to, a non-public
/// address (<see cref="WebhookAddresses"/>). Null when the URL is acceptable, else the reason. The silo
/// checks again where it connects, so a redirect or a DNS answer that changed since cannot get past.
/// </summary>
internal sealed class WebhookTargets(IOptions<WebhookOptions> options)
{
    /// <summary>The longest DNS name (RFC 1035).</summary>
    public const int MaxHostLength = 253;

    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(5);

    public async Task<string?> ProblemAsync(string url, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return "Must be an absolute http or https URL";
        }

        if (string.IsNullOrEmpty(uri.Host))
        {
            return "Must name a host";
        }

        if (uri.IdnHost.Length > MaxHostLength)
        {
            return $"Host must be at most {MaxHostLength} characters";
        }

        if (options.Value.AllowPrivateTargets)
        {
            return null;
        }

        IPAddress[] addresses;
        if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var literal))
        {
            addresses = [literal];
        }
        else
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ResolveTimeout);
            try
            {
                addresses = await Dns.GetHostAddressesAsync(uri.Host, timeout.Token);
            }
            catch (Exception exception) when (exception is SocketException or ArgumentException
                                               || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                return $"Host {uri.Host} could not be resolved";
            }
        }

        return addresses.Select(a => (Address: a, Kind: WebhookAddresses.NonPublicKind(a))).FirstOrDefault(a => a.Kind is not null) is { Kind: { } kind } hit
            ? $"Host {uri.Host} is a {kind} address ({hit.Address}); private targets are not allowed (Webhooks:AllowPrivateTargets)"
            : null;
    }
}
