using System.Net;

namespace Praison.Orleans.Gateway.Auth;

/// <summary>Whether this gateway listens on loopback addresses only (read once, after the server started).</summary>
public sealed class BindAddresses(Func<IEnumerable<string>> addresses)
{
    private bool? _loopbackOnly;

    public bool LoopbackOnly => _loopbackOnly ??= AreLoopbackOnly(addresses());

    /// <summary>
    /// True when every address is loopback (127.0.0.0/8, ::1, <c>localhost</c>); wildcards such as
    /// <c>0.0.0.0</c>, <c>[::]</c>, <c>*</c> and <c>+</c>, and any other host, are not.
    /// </summary>
    public static bool AreLoopbackOnly(IEnumerable<string> addresses) => addresses.All(address =>
    {
        var parsable = address.Replace("://*", "://wildcard", StringComparison.Ordinal)
            .Replace("://+", "://wildcard", StringComparison.Ordinal);
        return Uri.TryCreate(parsable, UriKind.Absolute, out var uri)
            && (uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip)));
    });
}
