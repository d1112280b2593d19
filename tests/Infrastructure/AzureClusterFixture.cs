using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.TestingHost;
using Praison.Orleans.Grains.Execution;
using Praison.Orleans.Grains.Hosting;
using Praison.Orleans.Grains.Schedules;

namespace Praison.Orleans.Tests.Infrastructure;

/// <summary>
/// Azurite, and in-process clusters whose job state, index and reminders are in it (as in production's Azure
/// mode): silos can be killed, and whole clusters stopped and started again on the same storage.
/// </summary>
public sealed class AzureClusterFixture : IAsyncLifetime
{
    /// <summary>The sweep's period here (production: 1 minute).</summary>
    public static readonly TimeSpan SweepPeriod = TimeSpan.FromSeconds(5);

    public Azurite Azurite { get; private set; } = null!;

    public async Task InitializeAsync() => Azurite = await Azurite.StartAsync(countRequests: true);

    public async Task DisposeAsync() => await Azurite.DisposeAsync();

    /// <summary>
    /// A deployed cluster of <paramref name="silos"/> silos on this Azurite. Clusters built with one
    /// <paramref name="serviceId"/> share their jobs, as a restarted deployment does. Progress is
    /// checkpointed every <paramref name="checkpointInterval"/> (default 200 ms), swept every
    /// <paramref name="sweepPeriod"/> (default <see cref="SweepPeriod"/>). Schedules check every
    /// <see cref="SweepPeriod"/> and read <paramref name="scheduleClock"/> when given.
    /// </summary>
    public async Task<InProcessTestCluster> StartClusterAsync(
        string serviceId, int silos = 2, int slotsPerSilo = 2, TimeSpan? checkpointInterval = null, TimeSpan? sweepPeriod = null,
        TimeProvider? scheduleClock = null)
    {
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.Options.ServiceId = serviceId;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.UseAzureJobStorage(Azurite.ConnectionString).WithStorageFaults().AddPraisonJobs();
            silo.Services.AddRecipe<ProbeRecipe>();
            silo.Services.AddRecipe<BigRecipe>();
            silo.Services.Configure<JobsOptions>(o =>
            {
                o.MaxConcurrent = slotsPerSilo;
                o.ProgressCheckpointInterval = checkpointInterval ?? TimeSpan.FromMilliseconds(200);
                o.SweepPeriod = sweepPeriod ?? SweepPeriod;
            });
            silo.Services.Configure<SchedulesOptions>(o => o.CheckPeriod = SweepPeriod);
            if (scheduleClock is not null)
            {
                silo.Services.AddKeyedSingleton(ScheduleGrain.Clock, scheduleClock);
            }

            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = SweepPeriod);
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.NumMissedProbesLimit = 1;
                o.NumVotesForDeathDeclaration = 1;
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
            });
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }
}

[CollectionDefinition(Name)]
public sealed class AzureClusterCollection : ICollectionFixture<AzureClusterFixture>
{
    public const string Name = "azure cluster";
}
