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

    /// <summary>The most distinct webhook targets one request may name (a batch's jobs): each is resolved and checked before anything is made.</summary>
    public const int MaxTargetsPerRequest = 10;

    /// <summary>
    /// The 422 of the first of <paramref name="targets"/> (each a job's <c>webhook_url</c>, if any, and the
    /// field it is in) that is not a target, or of the first past <see cref="MaxTargetsPerRequest"/>
    /// distinct ones; null when all may be called. Each distinct URL is checked once.
    /// </summary>
    public async Task<Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult?> FirstProblemAsync(
        IEnumerable<(string? Url, string Field)> targets, CancellationToken cancellationToken)
    {
        var named = targets.Where(target => target.Url is not null).DistinctBy(target => target.Url, StringComparer.Ordinal).ToList();
        if (named.Count > MaxTargetsPerRequest)
        {
            return Refused(named[MaxTargetsPerRequest].Field, $"A batch's jobs may name at most {MaxTargetsPerRequest} different webhook_url targets");
        }

        foreach (var (url, field) in named)
        {
            if (await ProblemAsync(url!, cancellationToken) is { } problem)
            {
                return Refused(field, problem);
            }
        }

        return null;

        static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Refused(string field, string problem) =>
            ApiProblems.Validation(new Dictionary<string, string[]> { [field] = [problem] });
    }

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
