using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Praison.Orleans.Gateway.Runs;

/// <summary>Where webhooks may go. Section <c>Webhooks</c>.</summary>
public sealed class WebhookTargetOptions
{
    public const string Section = "Webhooks";

    /// <summary>
    /// Allows webhook URLs whose host is or resolves to a loopback, private, link-local or multicast
    /// address (a receiver on this machine or network). Default: false.
    /// </summary>
    public bool AllowPrivateTargets { get; set; }
}

/// <summary>
/// Checks a submit's <c>webhook_url</c> (spec §5): http or https, a host, and — unless private targets
/// are allowed — a host that is not, and does not resolve to, a loopback, private, link-local or
/// multicast address. Null when the URL is acceptable, else the reason.
/// </summary>
internal sealed class WebhookTargets(IOptions<WebhookTargetOptions> options)
{
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
            catch (Exception exception) when (exception is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return $"Host {uri.Host} could not be resolved";
            }
        }

        return addresses.Select(a => (Address: a, Kind: PrivateKind(a))).FirstOrDefault(a => a.Kind is not null) is { Kind: { } kind } hit
            ? $"Host {uri.Host} is a {kind} address ({hit.Address}); private targets are not allowed (Webhooks:AllowPrivateTargets)"
            : null;
    }

    /// <summary>What kind of non-public address <paramref name="address"/> is, or null for a public one.</summary>
    public static string? PrivateKind(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address))
        {
            return "loopback";
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b switch
            {
                [10, ..] or [172, >= 16 and <= 31, ..] or [192, 168, ..] or [100, >= 64 and <= 127, ..] or [0, ..] => "private",
                [169, 254, ..] => "link-local",
                [>= 224, ..] => "multicast or reserved",
                _ => null,
            };
        }

        return address switch
        {
            _ when address.Equals(IPAddress.IPv6Any) => "unspecified",
            { IsIPv6LinkLocal: true } => "link-local",
            { IsIPv6Multicast: true } => "multicast",
            { IsIPv6UniqueLocal: true } or { IsIPv6SiteLocal: true } => "private",
            _ => null,
        };
    }
}
