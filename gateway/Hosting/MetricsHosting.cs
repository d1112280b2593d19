using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Praison.Orleans.Grains.Telemetry;

namespace Praison.Orleans.Gateway.Hosting;

/// <summary>How the gateway shows its metrics. Section <c>Metrics</c>.</summary>
public sealed class MetricsOptions
{
    public const string Section = "Metrics";

    /// <summary>
    /// Serves Prometheus text at <c>/metrics</c>, to the operator only when keys are configured
    /// (<c>Auth:MetricsKeySha256</c>, or the single <c>PRAISONAI_JOBS_API_KEY</c> without tenants): it shows
    /// every tenant's counts. Default: false.
    /// </summary>
    public bool Prometheus { get; set; }
}

internal static class MetricsHosting
{
    /// <summary>The cluster's metrics (<see cref="TelemetryHosting.AddJobsTelemetry"/>), ASP.NET Core's, and Prometheus when enabled.</summary>
    public static WebApplicationBuilder AddMetrics(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(MetricsOptions.Section).Get<MetricsOptions>() ?? new();
        builder.Services.AddSingleton(options);
        builder.Services.AddJobsTelemetry(
            builder.Configuration,
            exportsMetrics: options.Prometheus,
            configure: metrics =>
            {
                metrics.AddAspNetCoreInstrumentation();
                if (options.Prometheus)
                {
                    metrics.AddPrometheusExporter();
                }
            },
            configureTracing: tracing => tracing.AddAspNetCoreInstrumentation());
        return builder;
    }

    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        if (app.ServiceProvider.GetRequiredService<MetricsOptions>().Prometheus)
        {
            app.MapPrometheusScrapingEndpoint("/metrics").RequireAuthorization(Auth.Tenancy.OperatorPolicy);
        }

        return app;
    }
}
