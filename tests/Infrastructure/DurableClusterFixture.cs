using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.TestingHost;
using Praison.Orleans.Grains.Execution;
using Praison.Orleans.Grains.FlowControl;
using Praison.Orleans.Grains.Hosting;
using Praison.Orleans.Grains.Schedules;

namespace Praison.Orleans.Tests.Infrastructure;

/// <summary>
/// In-process clusters whose job state, index and reminders are in a real durable store (as in
/// production's Azure or Postgres mode): silos can be killed, and whole clusters stopped and started
/// again on the same storage. The tests of what durability promises run on every store from one code
/// (an abstract test class, a derived one per store).
/// </summary>
public abstract class DurableClusterFixture : IAsyncLifetime
{
    /// <summary>The sweep's period here (production: 1 minute).</summary>
    public static readonly TimeSpan SweepPeriod = TimeSpan.FromSeconds(5);

    public abstract Task InitializeAsync();

    public abstract Task DisposeAsync();

    /// <summary>Where clusters of <paramref name="serviceId"/> keep their jobs (the same place for each one started with it).</summary>
    protected abstract Task<string> StoreForAsync(string serviceId);

    /// <summary>Puts a silo's job storage, index and reminders in <paramref name="store"/>.</summary>
    protected abstract ISiloBuilder UseStore(ISiloBuilder silo, string store);

    /// <summary>
    /// A deployed cluster of <paramref name="silos"/> silos on this store. Clusters built with one
    /// <paramref name="serviceId"/> share their jobs, as a restarted deployment does. Progress is
    /// checkpointed every <paramref name="checkpointInterval"/> (default 200 ms), swept every
    /// <paramref name="sweepPeriod"/> (default <see cref="SweepPeriod"/>). Schedules check every
    /// <see cref="SweepPeriod"/> and read <paramref name="scheduleClock"/> when given.
    /// </summary>
    public async Task<InProcessTestCluster> StartClusterAsync(
        string serviceId, int silos = 2, int slotsPerSilo = 2, TimeSpan? checkpointInterval = null, TimeSpan? sweepPeriod = null,
        TimeProvider? scheduleClock = null)
    {
        var store = await StoreForAsync(serviceId);
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.Options.ServiceId = serviceId;
        builder.ConfigureSilo((_, silo) =>
        {
            UseStore(silo, store).WithStorageFaults().AddPraisonJobs();
            silo.Services.AddRecipe<ProbeRecipe>();
            silo.Services.AddRecipe<BigRecipe>();
            silo.Services.Configure<JobsOptions>(o =>
            {
                o.MaxConcurrent = slotsPerSilo;
                o.ProgressCheckpointInterval = checkpointInterval ?? TimeSpan.FromMilliseconds(200);
                o.SweepPeriod = sweepPeriod ?? SweepPeriod;
            });
            silo.Services.Configure<FlowControlOptions>(o => o.Keys.AddRange(JobsClusterFixture.FlowControlRules));
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

/// <summary>Azurite, and clusters on it (one Azurite: service ids keep their clusters' jobs apart).</summary>
public sealed class AzureClusterFixture : DurableClusterFixture
{
    public Azurite Azurite { get; private set; } = null!;

    public override async Task InitializeAsync() => Azurite = await Azurite.StartAsync(countRequests: true);

    public override async Task DisposeAsync() => await Azurite.DisposeAsync();

    protected override Task<string> StoreForAsync(string serviceId) => Task.FromResult(Azurite.ConnectionString);

    protected override ISiloBuilder UseStore(ISiloBuilder silo, string store) => silo.UseAzureJobStorage(store);
}

/// <summary>A PostgreSQL server, and clusters on it: a database per service id.</summary>
public sealed class PostgresClusterFixture : DurableClusterFixture
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<Task<string>>> _databases = new();

    public PostgresServer Server { get; private set; } = null!;

    public override async Task InitializeAsync() => Server = await PostgresServer.StartAsync();

    public override async Task DisposeAsync() => await Server.DisposeAsync();

    /// <summary>The connection string of the database of <paramref name="serviceId"/>'s clusters.</summary>
    public Task<string> DatabaseOfAsync(string serviceId) => StoreForAsync(serviceId);

    protected override Task<string> StoreForAsync(string serviceId) =>
        _databases.GetOrAdd(serviceId, _ => new(Server.CreateDatabaseAsync)).Value;

    protected override ISiloBuilder UseStore(ISiloBuilder silo, string store) => silo.UsePostgresJobStorage(store);
}

[CollectionDefinition(Name)]
public sealed class AzureClusterCollection : ICollectionFixture<AzureClusterFixture>
{
    public const string Name = "azure cluster";
}

[CollectionDefinition(Name)]
public sealed class PostgresClusterCollection : ICollectionFixture<PostgresClusterFixture>
{
    public const string Name = "postgres cluster";
}
