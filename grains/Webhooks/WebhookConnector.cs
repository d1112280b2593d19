using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Praison.Orleans.Grains.Webhooks;

/// <summary>
/// Makes every webhook connection (the <see cref="SocketsHttpHandler.ConnectCallback"/> of the webhook
/// client): resolves the host, keeps only the addresses webhooks may reach (<see cref="WebhookAddresses"/>,
/// unless <see cref="WebhookOptions.AllowPrivateTargets"/>), and connects to one of exactly those. The
/// check is where the connection is made, so neither a DNS answer that changed since submit (rebinding)
/// nor anything else can aim a delivery at this network.
/// </summary>
public sealed class WebhookConnector(IOptions<WebhookOptions> options)
{
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var target = context.DnsEndPoint;
        var addresses = IPAddress.TryParse(target.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(target.Host, cancellationToken);
        if (!options.Value.AllowPrivateTargets)
        {
            addresses = addresses.Where(address => WebhookAddresses.NonPublicKind(address) is null).ToArray();
        }

        if (addresses.Length == 0)
        {
            throw new WebhookTargetRefusedException();
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, target.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>The webhook's host has no address a webhook may reach.</summary>
public sealed class WebhookTargetRefusedException()
    : Exception("The webhook's host has no address webhooks may reach (Webhooks:AllowPrivateTargets).");
