using System.Net;
using Microsoft.Extensions.Configuration;

namespace Praison.Orleans.Grains.Hosting;

public static class JobsSiloHosting
{
    /// <summary>Reads and validates the <c>Cluster</c> section; throws naming every problem.</summary>
    public static JobsClusterOptions GetJobsClusterOptions(this IConfiguration configuration) =>
        (configuration.GetSection(JobsClusterOptions.Section).Get<JobsClusterOptions>() ?? new()).Validated();

    /// <summary>
    /// A silo of the jobs cluster as <paramref name="cluster"/> describes it: localhost clustering,
    /// in-memory job storage and reminders, and everything a silo needs to run jobs.
    /// </summary>
    public static ISiloBuilder ConfigureJobsSilo(this ISiloBuilder silo, JobsClusterOptions cluster)
    {
        var primary = cluster.PrimarySiloEndpoint is { } endpoint ? IPEndPoint.Parse(endpoint) : null;
        return silo
            .UseLocalhostClustering(cluster.SiloPort, cluster.GatewayPort, primary, cluster.ServiceId, cluster.ClusterId)
            .UseInMemoryJobStorage()
            .AddPraisonJobs();
    }
}
