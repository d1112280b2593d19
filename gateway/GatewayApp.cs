using Praison.Orleans.Gateway.Auth;
using Praison.Orleans.Gateway.Batches;
using Praison.Orleans.Gateway.Dashboard;
using Praison.Orleans.Gateway.Docs;
using Praison.Orleans.Gateway.FlowControl;
using Praison.Orleans.Gateway.Health;
using Praison.Orleans.Gateway.Hosting;
using Praison.Orleans.Gateway.Runs;
using Praison.Orleans.Gateway.Schedules;

namespace Praison.Orleans.Gateway;

/// <summary>The gateway as a table of contents; <c>Program</c> runs it and tests host it on Kestrel.</summary>
public static class GatewayApp
{
    /// <param name="args">Command-line arguments, read as configuration.</param>
    /// <param name="cluster">A cluster client to use instead of joining one from configuration (tests
    /// hosting the gateway beside an in-process test cluster).</param>
    /// <param name="overrides">Service registrations applied last (tests standing in for what cannot
    /// exist here, such as a public bind address).</param>
    public static WebApplication Build(string[] args, IClusterClient? cluster = null, Action<IServiceCollection>? overrides = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddJobsCluster(cluster);      // embedded silo (default) or client of an external cluster
        builder.AddRunsApi();                 // JSON in snake_case, request body limit, API options
        builder.AddSubmitQuotas();            // per-tenant submit rate and live-jobs cap: 429 past them
        builder.AddApiDocs();                 // OpenAPI documents of the real endpoints
        builder.AddMetrics();                 // OpenTelemetry metrics: OTLP when configured, Prometheus /metrics when enabled
        builder.AddApiKeyAuth();              // API keys naming tenants; fail closed off loopback
        builder.Services.AddProblemDetails(); // every error is RFC 9457 problem JSON
        builder.Services.AddExceptionHandler<ClusterUnavailableHandler>(); // cluster down → 503, bad body → 4xx
        builder.ListenOnDefaultAddress();     // http://127.0.0.1:8005 unless --urls or ASPNETCORE_URLS says otherwise
        overrides?.Invoke(builder.Services);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseDeclaredBodyLimit();           // a declared body past the limit: 413, read and discarded so the client sees it
        app.UseBrowserGuard();                // keyless mode: no foreign Host names, no other sites' pages
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.MapHealthApi();
        app.MapStatsApi();
        app.MapRunsApi();
        app.MapBatchesApi();
        app.MapSchedulesApi();
        app.MapConcurrencyKeysApi();
        app.MapApiDocs();                     // /openapi.json, /openapi/v1.json, /docs
        app.MapDashboard();                   // /dashboard: the jobs in a browser, over this API
        app.MapMetrics();                     // /metrics (Metrics:Prometheus)
        app.MapOrleansDashboardIfEnabled();   // /orleans/ (Cluster:OrleansDashboard)
        return app;
    }
}
