using System.Net;
using Orleans.Dashboard;
using Praison.Orleans.Grains.Hosting;
using Praison.Orleans.Grains.Telemetry;

namespace Praison.Orleans.Gateway.Hosting;

internal static class ClusterHosting
{
    /// <summary>The address <c>dotnet run --project gateway</c> serves when nothing else is configured.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8005";

    /// <summary>
    /// Joins the jobs cluster as <c>Cluster:Mode</c> says: <c>Embedded</c> co-hosts a silo in this
    /// process (which also provides the cluster client); <c>Client</c> connects to the silos' gateways.
    /// </summary>
    public static WebApplicationBuilder AddJobsCluster(this WebApplicationBuilder builder, IClusterClient? client = null)
    {
        var cluster = builder.Configuration.GetJobsClusterOptions();
        builder.Services.AddSingleton(cluster);
        if (client is not null)
        {
            builder.Services.AddSingleton(client);
            builder.Services.AddSingleton<IGrainFactory>(client);
        }
        else if (cluster.Mode == ClusterMode.Embedded)
        {
            builder.UseOrleans(silo => silo.ConfigureJobsSilo(cluster));
        }
        else
        {
            builder.UseOrleansClient(client =>
            {
                if (cluster.Storage == JobStorageMode.Azure)
                {
                    client.UseAzureStorageClustering(o => o.TableServiceClient = new Azure.Data.Tables.TableServiceClient(cluster.AzureStorage));
                }
                else
                {
                    var gateways = cluster.Gateways.Count > 0 ? cluster.Gateways : ["127.0.0.1:30000"];
                    client.UseStaticClustering(gateways.Select(g => IPEndPoint.Parse(g)).ToArray());
                }

                client.Configure<global::Orleans.Configuration.ClusterOptions>(o =>
                {
                    o.ClusterId = cluster.ClusterId;
                    o.ServiceId = cluster.ServiceId;
                });

                if (cluster.OrleansDashboard)
                {
                    client.AddDashboard(o => o.HideTrace = true); // the silos collect; this gateway serves the page
                }

                // Gateway and silos start in any order: until a silo has registered, keep trying to connect.
                client.UseConnectionRetryFilter<ConnectRetryFilter>();
                if (TelemetryHosting.TracesExported(builder.Configuration))
                {
                    client.AddActivityPropagation(); // grain calls join the request's trace (only when traced)
                }
            });
        }

        return builder;
    }

    /// <summary>
    /// Serves the Orleans Dashboard at <c>/orleans/</c> when <c>Cluster:OrleansDashboard</c> is set. It
    /// shows every tenant's grains, so with API keys configured (tenants) the gateway refuses to start.
    /// </summary>
    public static WebApplication MapOrleansDashboardIfEnabled(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<JobsClusterOptions>().OrleansDashboard)
        {
            return app;
        }

        if (app.Services.GetRequiredService<Auth.ApiKeyRing>().Enabled)
        {
            throw new InvalidOperationException(
                "Cluster:OrleansDashboard shows every tenant's grains: it cannot be served by a gateway with API keys. "
                + "Serve it from a gateway of its own without keys, bound to a private address.");
        }

        app.MapOrleansDashboard("/orleans").ExcludeFromDescription(); // not part of the jobs API document
        return app;
    }

    /// <summary>Listens on <see cref="DefaultUrl"/> unless <c>--urls</c>, <c>ASPNETCORE_URLS</c> or
    /// Kestrel endpoints are configured.</summary>
    public static WebApplicationBuilder ListenOnDefaultAddress(this WebApplicationBuilder builder)
    {
        var configured = builder.Configuration["urls"] is { Length: > 0 }
            || builder.Configuration.GetSection("Kestrel:Endpoints").Exists();
        if (!configured)
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        return builder;
    }
}

/// <summary>Keeps a client gateway trying to reach the cluster at start-up, once a second, until it does.</summary>
internal sealed partial class ConnectRetryFilter(ILogger<ConnectRetryFilter> logger) : IClientConnectionRetryFilter
{
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(1);

    public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
    {
        LogRetrying(logger, exception.Message, Delay);
        await Task.Delay(Delay, cancellationToken);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The job cluster is not reachable yet ({Reason}); trying again in {Delay}")]
    private static partial void LogRetrying(ILogger logger, string reason, TimeSpan delay);
}
