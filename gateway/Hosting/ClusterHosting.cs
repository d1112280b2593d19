using Orleans.Dashboard;
using Praison.Orleans.Grains.Hosting;

namespace Praison.Orleans.Gateway.Hosting;

/// <summary>What this gateway says about the cluster it serves (<c>/health</c>): the store its jobs are kept in.</summary>
public sealed record ClusterFacts(string Store);

/// <summary>
/// The gateway's one door to the grains project: joining the cluster (or co-hosting its silo), and the
/// process's bounded shutdown. Everything else in the gateway knows only the contracts.
/// </summary>
public static class ClusterHosting
{
    /// <summary>The address <c>dotnet run --project gateway</c> serves when nothing else is configured.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8005";

    /// <summary>
    /// Joins the jobs cluster as <c>Cluster:Mode</c> says: <c>Embedded</c> co-hosts a silo in this
    /// process (which also provides the cluster client); <c>Client</c> connects to the silos' gateways.
    /// </summary>
    internal static WebApplicationBuilder AddJobsCluster(this WebApplicationBuilder builder, IClusterClient? client = null)
    {
        var cluster = builder.Configuration.GetJobsClusterOptions();
        builder.Services.AddSingleton(cluster);
        builder.Services.AddSingleton(new ClusterFacts(WireNames.Of(cluster.Storage)));
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
            builder.UseOrleansClient(client => client.ConfigureJobsClient(cluster));
        }

        return builder;
    }

    /// <summary>
    /// Serves the Orleans Dashboard at <c>/orleans/</c> when <c>Cluster:OrleansDashboard</c> is set. It
    /// shows every tenant's grains, so with API keys configured (tenants) the gateway refuses to start.
    /// Without keys it is served to anyone who reaches the gateway: on loopback (behind the browser guard),
    /// or on the private address of a gateway of its own, whose jobs API stays closed (401) without keys.
    /// </summary>
    internal static WebApplication MapOrleansDashboardIfEnabled(this WebApplication app)
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

        app.MapOrleansDashboard("/orleans").AllowAnonymous().ExcludeFromDescription(); // not part of the jobs API document
        return app;
    }

    /// <summary>Asked to stop, the process exits within <c>Cluster:ShutdownTimeout</c> (not in tests that host the gateway).</summary>
    public static void StopWithinShutdownTimeout(IServiceCollection services) => services.AddBoundedShutdown();

    /// <summary>Listens on <see cref="DefaultUrl"/> unless <c>--urls</c>, <c>ASPNETCORE_URLS</c> or
    /// Kestrel endpoints are configured.</summary>
    internal static WebApplicationBuilder ListenOnDefaultAddress(this WebApplicationBuilder builder)
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
