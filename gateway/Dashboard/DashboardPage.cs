namespace Praison.Orleans.Gateway.Dashboard;

/// <summary>
/// The jobs dashboard at <c>/dashboard</c>: a static page (HTML, CSS and a script embedded in this
/// assembly, no build step, nothing from a CDN) that uses the public API like any client. The page holds
/// no data, so it is served without a key; the script asks for one when the API answers 401. Its
/// content security policy allows only its own script and style and calls to this origin, on top of the
/// script putting every value from a job on the page as text.
/// </summary>
internal static class DashboardPage
{
    private const string Policy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly (string Path, string File, string ContentType)[] Files =
    [
        ("/dashboard", "index.html", "text/html; charset=utf-8"),
        ("/dashboard/app.js", "app.js", "text/javascript; charset=utf-8"),
        ("/dashboard/app.css", "app.css", "text/css; charset=utf-8"),
    ];

    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        foreach (var (path, file, contentType) in Files)
        {
            var content = Read(file);
            app.MapGet(path, (HttpContext context) =>
                {
                    var headers = context.Response.Headers;
                    headers.ContentSecurityPolicy = Policy;
                    headers.XContentTypeOptions = "nosniff";
                    headers["Referrer-Policy"] = "no-referrer";
                    headers.CacheControl = "no-cache";
                    return Results.Bytes(content, contentType);
                })
                .AllowAnonymous()
                .ExcludeFromDescription();
        }

        return app;
    }

    private static byte[] Read(string file)
    {
        using var stream = typeof(DashboardPage).Assembly.GetManifestResourceStream("dashboard/" + file)
            ?? throw new InvalidOperationException($"The dashboard's {file} is not embedded in the gateway.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
