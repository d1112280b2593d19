using System.Net;
using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Orleans.Configuration;
using Orleans.Dashboard;

namespace Praison.Orleans.Grains.Hosting;

public static class JobsSiloHosting
{
    /// <summary>Reads and validates the <c>Cluster</c> section; throws naming every problem.</summary>
    public static JobsClusterOptions GetJobsClusterOptions(this IConfiguration configuration)
    {
        var options = configuration.GetSection(JobsClusterOptions.Section).Get<JobsClusterOptions>() ?? new();
        options.AzureStorage ??= configuration.GetConnectionString("AzureStorage");
        return options.Validated();
    }

    /// <summary>
    /// A silo of the jobs cluster as <paramref name="cluster"/> describes it: its storage mode (memory:
    /// one silo, localhost clustering; or Azure Storage for state, reminders and membership) and
    /// everything a silo needs to run jobs.
    /// </summary>
    public static ISiloBuilder ConfigureJobsSilo(this ISiloBuilder silo, JobsClusterOptions cluster)
    {
        if (cluster.Storage == JobStorageMode.Azure)
        {
            silo.UseAzureStorageClustering(o => o.TableServiceClient = new TableServiceClient(cluster.AzureStorage))
                .ConfigureEndpoints(IPAddress.Parse(cluster.AdvertisedAddress), cluster.SiloPort, cluster.GatewayPort)
                .Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = cluster.ClusterId;
                    o.ServiceId = cluster.ServiceId;
                })
                .UseAzureJobStorage(cluster.AzureStorage!);
        }
        else
        {
            // One silo knows where every grain is: a directory cache would only hold an entry per job ever seen.
            silo.UseLocalhostClustering(cluster.SiloPort, cluster.GatewayPort, null, cluster.ServiceId, cluster.ClusterId)
                .Configure<GrainDirectoryOptions>(o => o.CachingStrategy = GrainDirectoryOptions.CachingStrategyType.None)
                .UseInMemoryJobStorage();
        }

        if (cluster.OrleansDashboard)
        {
            silo.AddDashboard(o => o.HideTrace = true); // no live log stream: logs carry job details
        }

        return silo.AddPraisonJobs();
    }
}
