using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace Praison.Orleans.Grains.Telemetry;

public static class TelemetryHosting
{
    /// <summary>The standard variable that, when set, sends metrics over OTLP to that endpoint.</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>
    /// OpenTelemetry metrics of a host of the cluster: the jobs' own (<see cref="JobMetrics"/>), Orleans',
    /// outbound HTTP (LLM, webhooks) and the .NET runtime's; exported over OTLP when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, and wherever <paramref name="configure"/> adds.
    /// </summary>
    public static IServiceCollection AddJobsTelemetry(
        this IServiceCollection services, IConfiguration configuration, Action<MeterProviderBuilder>? configure = null)
    {
        services.AddOpenTelemetry().WithMetrics(metrics =>
        {
            metrics.AddMeter(JobMetrics.MeterName, "Microsoft.Orleans")
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation();
            if (configuration[OtlpEndpointVariable] is { Length: > 0 })
            {
                metrics.AddOtlpExporter();
            }

            configure?.Invoke(metrics);
        });
        return services;
    }
}
