using System.Net;

namespace Praison.Orleans.Gateway.Auth;

/// <summary>
/// Keyless mode (no API key, loopback binds only) trusts whoever can reach the gateway — and a web page
/// in the developer's browser can reach it too: a form or a <c>no-cors</c> fetch needs no CORS preflight,
/// and a DNS-rebinding name makes the browser treat this server as the page's own origin. So in keyless
/// mode every request but <c>/health</c> is refused with 403 when
/// <list type="bullet">
/// <item>its <c>Host</c> is not a loopback name (<c>localhost</c>, <c>*.localhost</c>, <c>127.0.0.0/8</c>,
/// <c>[::1]</c>): a rebound name is a foreign site's;</item>
/// <item>the browser says it comes from another origin: <c>Sec-Fetch-Site</c> other than
/// <c>same-origin</c> or <c>none</c> (a navigation by GET or HEAD excepted: it shows the answer to the
/// user, not to the page), or, where a browser sends no <c>Sec-Fetch-Site</c>, an <c>Origin</c> that is
/// not this server's own.</item>
/// </list>
/// curl, SDKs and scripts send neither header, and the dashboard's calls are same-origin: all go on.
/// With API keys a page cannot send the key (a custom header needs a preflight this API never grants),
/// so the guard is off there, as it is on the closed non-loopback keyless gateway.
/// </summary>
internal sealed class BrowserGuard(ApiKeyRing keys, BindAddresses bind)
{
    public static string ForeignHost(string host) =>
        $"Host '{host}' is not a loopback name: without API keys the gateway answers only localhost, 127.0.0.1 and [::1] "
        + "(a page that rebinds its own name to this machine is refused). Configure an API key (PRAISONAI_JOBS_API_KEY) to serve other names.";

    public const string CrossSite =
        "Cross-site request refused: without API keys the gateway answers web pages of its own origin only "
        + "(another site's page could otherwise drive it). Call it from curl or an SDK, or configure an API key.";

    private bool Active => !keys.Enabled && bind.LoopbackOnly;

    /// <summary>Why <paramref name="request"/> is refused, or null to let it through.</summary>
    public string? Refusal(HttpRequest request)
    {
        if (!Active || request.Path.StartsWithSegments("/health"))
        {
            return null;
        }

        if (!IsLoopbackName(request.Host.Host))
        {
            return ForeignHost(request.Host.Host);
        }

        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0)
        {
            return site is "same-origin" or "none" || IsNavigation(request) ? null : CrossSite;
        }

        var origin = request.Headers.Origin.ToString();
        return origin.Length == 0 || IsOwnOrigin(request, origin) ? null : CrossSite;
    }

    /// <summary><c>localhost</c>, a name under it (browsers resolve those to loopback themselves), or a loopback address.</summary>
    public static bool IsLoopbackName(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    private static bool IsNavigation(HttpRequest request) =>
        (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
        && request.Headers["Sec-Fetch-Mode"] == "navigate";

    /// <summary>True when <paramref name="origin"/> is the scheme, host and port this request was sent to.</summary>
    private static bool IsOwnOrigin(HttpRequest request, string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var from)
        && Uri.TryCreate($"{request.Scheme}://{request.Host.Value}", UriKind.Absolute, out var own)
        && Uri.Compare(from, own, UriComponents.SchemeAndServer, UriFormat.UriEscaped, StringComparison.OrdinalIgnoreCase) == 0;
}

internal static class BrowserGuardMiddleware
{
    /// <summary>Refuses, with 403 problem JSON, what <see cref="BrowserGuard"/> refuses; before authentication.</summary>
    public static IApplicationBuilder UseBrowserGuard(this IApplicationBuilder app)
    {
        var guard = app.ApplicationServices.GetRequiredService<BrowserGuard>();
        return app.Use(next => context => guard.Refusal(context.Request) is { } detail
            ? context.WriteProblemAsync(StatusCodes.Status403Forbidden, detail)
            : next(context)); // no state machine on the way through: every request passes here
    }
}
