using System.Net;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Serialization;
using Orleans.Storage;
using Praison.Orleans.Grains.Agents;
using Praison.Orleans.Grains.Execution;
using Praison.Orleans.Grains.FlowControl;
using Praison.Orleans.Grains.Index;
using Praison.Orleans.Grains.Jobs;
using Praison.Orleans.Grains.Llm;
using Praison.Orleans.Grains.Postgres;
using Praison.Orleans.Grains.Recipes;
using Praison.Orleans.Grains.Schedules;
using Praison.Orleans.Grains.Storage;
using Praison.Orleans.Grains.Telemetry;
using Praison.Orleans.Grains.Webhooks;

namespace Praison.Orleans.Grains.Hosting;

/// <summary>
/// How a process takes part in the jobs cluster, in one place: its options (section <c>Cluster</c>),
/// a silo (<see cref="ConfigureJobsSilo"/>: storage mode, then <see cref="AddPraisonJobs"/>) and a
/// client (<see cref="ConfigureJobsClient"/>), so cluster and service ids are set once for both.
/// </summary>
public static class JobsHosting
{
    /// <summary>Reads and validates the <c>Cluster</c> section; throws naming every problem.</summary>
    public static JobsClusterOptions GetJobsClusterOptions(this IConfiguration configuration)
    {
        var options = configuration.GetSection(JobsClusterOptions.Section).Get<JobsClusterOptions>() ?? new();
        options.AzureStorage ??= configuration.GetConnectionString("AzureStorage");
        options.Postgres ??= configuration.GetConnectionString("Postgres");
        return options.Validated();
    }

    /// <summary>
    /// A silo of the jobs cluster as <paramref name="cluster"/> describes it: its storage mode (memory:
    /// one silo, localhost clustering; Azure Storage or PostgreSQL for state, reminders and membership)
    /// and everything a silo needs to run jobs.
    /// </summary>
    public static ISiloBuilder ConfigureJobsSilo(this ISiloBuilder silo, JobsClusterOptions cluster)
    {
        silo.Services.DropWatchdogFalseAlarms(); // its start-up race reports the machine's uptime as a stall
        if (cluster.Storage == JobStorageMode.Azure)
        {
            silo.UseAzureStorageClustering(o => o.TableServiceClient = new TableServiceClient(cluster.AzureStorage))
                .UseDurableClusterIdentity(cluster)
                .UseAzureJobStorage(cluster.AzureStorage!);
        }
        else if (cluster.Storage == JobStorageMode.Postgres)
        {
            silo.UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = (PostgresInvariant, cluster.Postgres))
                .UseDurableClusterIdentity(cluster)
                .UsePostgresJobStorage(cluster.Postgres!);
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

    /// <summary>The ADO.NET invariant of Npgsql, by which Orleans' ADO.NET providers load it.</summary>
    private const string PostgresInvariant = "Npgsql";

    /// <summary>A durable cluster's silo: reachable at its advertised address, in the cluster and service it names.</summary>
    private static ISiloBuilder UseDurableClusterIdentity(this ISiloBuilder silo, JobsClusterOptions cluster) =>
        silo.ConfigureEndpoints(IPAddress.Parse(cluster.AdvertisedAddress), cluster.SiloPort, cluster.GatewayPort)
            .Configure<ClusterOptions>(o =>
            {
                o.ClusterId = cluster.ClusterId;
                o.ServiceId = cluster.ServiceId;
            });

    /// <summary>
    /// A client (a gateway in client mode) of the jobs cluster as <paramref name="cluster"/> describes it:
    /// the same cluster and service ids as its silos, found through Azure Table or PostgreSQL membership or at
    /// <see cref="JobsClusterOptions.GatewayEndpoints"/>, and at start-up it keeps trying to connect until
    /// a silo is there (gateway and silos start in any order).
    /// </summary>
    public static IClientBuilder ConfigureJobsClient(this IClientBuilder client, JobsClusterOptions cluster)
    {
        if (cluster.Storage == JobStorageMode.Azure)
        {
            client.UseAzureStorageClustering(o => o.TableServiceClient = new TableServiceClient(cluster.AzureStorage));
        }
        else if (cluster.Storage == JobStorageMode.Postgres)
        {
            client.UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = (PostgresInvariant, cluster.Postgres));
            client.Services.AddPostgresSchema(cluster.Postgres!); // its gateway list reads the providers' queries
        }
        else
        {
            client.UseStaticClustering(cluster.GatewayEndpoints.Select(IPEndPoint.Parse).ToArray());
        }

        client.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = cluster.ClusterId;
            o.ServiceId = cluster.ServiceId;
        });
        client.UseConnectionRetryFilter<ConnectRetryFilter>();
        if (TelemetryHosting.TracesExported(client.Configuration))
        {
            client.AddActivityPropagation(); // grain calls join the request's trace (only when traced)
        }

        if (cluster.OrleansDashboard)
        {
            client.AddDashboard(o => o.HideTrace = true); // the silos collect; this client's host serves the page
        }

        return client;
    }

    /// <summary>The environment variable PraisonAI uses for <see cref="JobsOptions.MaxConcurrent"/>.</summary>
    public const string MaxConcurrentVariable = "PRAISONAI_MAX_CONCURRENT_JOBS";

    /// <summary>
    /// Adds what a silo needs to run jobs: execution options (section <c>Jobs</c>, validated at
    /// start-up), this silo's slots, the executor and the built-in recipes.
    /// </summary>
    public static ISiloBuilder AddPraisonJobs(this ISiloBuilder silo)
    {
        if (TelemetryHosting.TracesExported(silo.Configuration))
        {
            silo.AddActivityPropagation(); // a grain call joins the caller's trace (a filter on every call: only when traced)
        }

        var services = silo.Services;
        services.AddOptions<JobsOptions>()
            .BindConfiguration(JobsOptions.Section)
            .Configure<IConfiguration>(ApplyEnvironmentOverrides)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<JobsOptions>>(new ProblemsValidator<JobsOptions>(o => o.Problems()));
        services.AddSingleton<IValidateOptions<JobsOptions>>(provider => new ProblemsValidator<JobsOptions>(
            o => o.SweepProblems(provider.GetRequiredService<IOptions<ReminderOptions>>().Value.MinimumReminderPeriod)));
        services.AddLiveJobsOptions(); // schedule firings keep to the live-jobs quota a gateway keeps submits to
        services.AddOptions<SchedulesOptions>().BindConfiguration(SchedulesOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SchedulesOptions>>(provider => new ProblemsValidator<SchedulesOptions>(
            o => o.Problems(provider.GetRequiredService<IOptions<ReminderOptions>>().Value.MinimumReminderPeriod)));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddKeyedSingleton(ScheduleGrain.Clock, (provider, _) => provider.GetRequiredService<TimeProvider>());
        services.AddSingleton<JobSlots>();
        services.AddSingleton<KeyLeases>();
        services.AddSingleton<JobAdmission>();
        services.AddOptions<FlowControlOptions>().BindConfiguration(FlowControlOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<FlowControlOptions>>(new ProblemsValidator<FlowControlOptions>(o => o.Problems()));
        services.AddPlacementDirector<SiloKeyPlacement, SiloKeyPlacementDirector>();
        services.AddMetrics();
        services.AddSingleton<JobMetrics>();
        services.AddSingleton<RecipeCatalog>();
        services.AddSingleton<JobExecutor>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, JobSweeperStartup>();
        services.AddWebhooks();
        services.AddLlm();
        services.AddOptions<AgentsOptions>().BindConfiguration(AgentsOptions.Section).PostConfigure<IConfiguration>(AgentsOptions.ApplyDefaults).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AgentsOptions>>(new ProblemsValidator<AgentsOptions>(o => o.Problems()));
        services.AddSingleton<AgentsFileReader>();
        services.AddSingleton<AgentsRecipe>();
        services.AddSingleton<PromptRecipe>();
        services.AddSingleton<AgentsRunner>();
        services.AddRecipe<EchoRecipe>();
        services.AddRecipe<WaitRecipe>();
        return silo;
    }

    /// <summary>
    /// In-memory job storage, index and reminders (the sweep's): the embedded default, one silo, lost
    /// when it stops. Job records (<see cref="SiloMemoryGrainStorage"/>, copied with Orleans' own binary
    /// serializer) and index entries (<see cref="MemoryJobIndex"/>) live in <paramref name="store"/>,
    /// which silos of one process may share (the in-process test clusters do) and silos of different
    /// processes cannot.
    /// </summary>
    public static ISiloBuilder UseInMemoryJobStorage(this ISiloBuilder silo, MemoryJobStore? store = null)
    {
        silo.Services.AddSingleton(store ?? new MemoryJobStore());
        silo.Services.AddKeyedSingleton<IGrainStorage>(JobStorage.Name, (services, key) => new SiloMemoryGrainStorage(
            (string)key!, services.GetRequiredService<Serializer>(), services.GetRequiredService<MemoryJobStore>()));
        silo.Services.RemoveAll<IJobIndex>();
        silo.Services.AddSingleton<IJobIndex, MemoryJobIndex>();
        silo.Services.PostConfigure<JobsOptions>(o => o.FinishedJobIdleTime ??= JobsOptions.FinishedJobIdleTimeInMemory);
        return silo.UseInMemoryReminderService();
    }

    /// <summary>
    /// Job storage in Azure Storage: grain state as blobs (no size limit near a large result; stored
    /// as the provider's default JSON, its lists as arrays: <see cref="StoredListJsonConverter"/>), the
    /// sweep's reminder and the job index as table rows.
    /// </summary>
    public static ISiloBuilder UseAzureJobStorage(this ISiloBuilder silo, string connectionString)
    {
        silo.Services.RemoveAll<IJobIndex>();
        silo.Services.AddSingleton<IJobIndex>(services => ActivatorUtilities.CreateInstance<AzureTableJobIndex>(
            services, new TableServiceClient(connectionString)));
        silo.Services.PostConfigure<JobsOptions>(o => o.FinishedJobIdleTime ??= JobsOptions.FinishedJobIdleTimeInStorage);
        // Grain state is Orleans' JSON here: lists are stored as arrays, whatever type a collection expression gave them.
        silo.Services.Configure<OrleansJsonSerializerOptions>(o => o.JsonSerializerSettings.Converters.Insert(0, new StoredListJsonConverter()));
        return silo.AddAzureBlobGrainStorage(JobStorage.Name, o => o.BlobServiceClient = new BlobServiceClient(connectionString))
            .UseAzureTableReminderService(o => o.TableServiceClient = new TableServiceClient(connectionString));
    }

    /// <summary>
    /// Job storage in PostgreSQL (<see cref="PostgresGrainStorage"/>: a row per job, its record and index
    /// columns in one statement; grain state; writes group-committed by <see cref="PostgresCommits"/>), the
    /// job index as queries over those rows (<see cref="PostgresJobIndex"/>), and the sweep's reminder in
    /// Orleans' ADO.NET reminders table. The schema is applied as the silo starts.
    /// </summary>
    public static ISiloBuilder UsePostgresJobStorage(this ISiloBuilder silo, string connectionString)
    {
        var services = silo.Services;
        services.AddPostgresSchema(connectionString);
        services.AddOptions<PostgresOptions>().BindConfiguration(PostgresOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PostgresOptions>>(new ProblemsValidator<PostgresOptions>(o => o.Problems()));
        services.TryAddSingleton<PostgresCommits>();
        services.TryAddSingleton<PostgresReads>();
        services.AddKeyedSingleton<IGrainStorage>(JobStorage.Name, (provider, _) => ActivatorUtilities.CreateInstance<PostgresGrainStorage>(provider));
        services.RemoveAll<IJobIndex>();
        services.AddSingleton<IJobIndex, PostgresJobIndex>();
        services.PostConfigure<JobsOptions>(o => o.FinishedJobIdleTime ??= JobsOptions.FinishedJobIdleTimeInStorage);
        return silo.UseAdoNetReminderService(o => (o.Invariant, o.ConnectionString) = (PostgresInvariant, connectionString));
    }

    /// <summary>The database at <paramref name="connectionString"/>, its schema applied first as the process starts.</summary>
    private static void AddPostgresSchema(this IServiceCollection services, string connectionString)
    {
        services.TryAddSingleton(_ => PostgresDataSource.Create(connectionString));
        services.TryAddSingleton<PostgresSchemaStartup>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(provider => provider.GetRequiredService<PostgresSchemaStartup>());
        services.AddSingleton<ILifecycleParticipant<IClusterClientLifecycle>>(provider => provider.GetRequiredService<PostgresSchemaStartup>());
    }

    /// <summary>Registers a recipe so jobs can run it by its <see cref="IRecipe.Name"/>.</summary>
    public static IServiceCollection AddRecipe<TRecipe>(this IServiceCollection services)
        where TRecipe : class, IRecipe
    {
        services.AddSingleton<IRecipe, TRecipe>();
        return services;
    }

    private static void ApplyEnvironmentOverrides(JobsOptions options, IConfiguration configuration)
    {
        if (configuration[MaxConcurrentVariable] is { Length: > 0 } text)
        {
            options.MaxConcurrent = int.TryParse(text, out var value) ? value : -1;
        }

        options.ConfiguredTenants ??= configuration.GetSection(TenantKeysSection).GetChildren().Count();
    }

    /// <summary>Where a gateway's configuration names its tenants' API keys (one child per tenant).</summary>
    private const string TenantKeysSection = "Auth:Tenants";
}

/// <summary>Keeps a client trying to reach the cluster at start-up, once a second, until it does.</summary>
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
