using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Orleans.Diagnostics;
using Praison.Orleans.Grains.Llm;

namespace Praison.Orleans.Grains.Telemetry;

public static class TelemetryHosting
{
    /// <summary>The standard variable that, when set, sends metrics over OTLP to that endpoint.</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>True when traces go somewhere (an OTLP endpoint is set): only then are spans worth their cost.</summary>
    public static bool TracesExported(IConfiguration configuration) => configuration[OtlpEndpointVariable] is { Length: > 0 };

    /// <summary>
    /// OpenTelemetry of a host of the cluster. Metrics: the jobs' own (<see cref="JobMetrics"/>), Orleans',
    /// outbound HTTP (LLM, webhooks) and the .NET runtime's, exported over OTLP when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set and wherever <paramref name="configure"/> adds. Traces
    /// (<see cref="JobTracing"/>, grain calls, outbound HTTP), over OTLP when that is set. With neither an
    /// OTLP endpoint nor <paramref name="exportsMetrics"/> (another exporter the host adds), nothing is
    /// registered: the instruments then cost next to nothing.
    /// </summary>
    public static IServiceCollection AddJobsTelemetry(
        this IServiceCollection services, IConfiguration configuration, bool exportsMetrics = false,
        Action<MeterProviderBuilder>? configure = null, Action<TracerProviderBuilder>? configureTracing = null)
    {
        var otlp = TracesExported(configuration);
        if (!otlp && !exportsMetrics)
        {
            return services; // nothing would read them: no SDK aggregating every request's measurements
        }

        var telemetry = services.AddOpenTelemetry();
        if (otlp)
        {
            // Traces only when they go somewhere: an unexported trace would still cost every request its spans.
            telemetry.WithTracing(tracing =>
            {
                tracing.AddSource(JobTracing.SourceName, ActivitySources.ApplicationGrainActivitySourceName, LlmClient.TelemetrySourceName)
                    .AddHttpClientInstrumentation()
                    .AddOtlpExporter();
                configureTracing?.Invoke(tracing);
            });
        }

        telemetry.WithMetrics(metrics =>
        {
            metrics.AddMeter(JobMetrics.MeterName, "Microsoft.Orleans", LlmClient.TelemetrySourceName)
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation();
            if (otlp)
            {
                metrics.AddOtlpExporter();
            }

            configure?.Invoke(metrics);
        });
        return services;
    }
}
