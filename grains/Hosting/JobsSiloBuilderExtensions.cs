using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using Praison.Orleans.Grains.Agents;
using Praison.Orleans.Grains.Execution;
using Praison.Orleans.Grains.Index;
using Praison.Orleans.Grains.Jobs;
using Praison.Orleans.Grains.Llm;
using Praison.Orleans.Grains.Recipes;
using Praison.Orleans.Grains.Telemetry;
using Praison.Orleans.Grains.Webhooks;

namespace Praison.Orleans.Grains.Hosting;

public static class JobsSiloBuilderExtensions
{
    /// <summary>The environment variable PraisonAI uses for <see cref="JobExecutionOptions.MaxConcurrent"/>.</summary>
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
        services.AddOptions<JobExecutionOptions>()
            .BindConfiguration(JobExecutionOptions.Section)
            .Configure<IConfiguration>(ApplyEnvironmentOverrides)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<JobExecutionOptions>>(new ProblemsValidator<JobExecutionOptions>(o => o.Problems()));
        services.AddSingleton<IValidateOptions<JobExecutionOptions>>(provider => new ProblemsValidator<JobExecutionOptions>(
            o => o.SweepProblems(provider.GetRequiredService<IOptions<ReminderOptions>>().Value.MinimumReminderPeriod)));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<JobSlots>();
        services.AddMetrics();
        services.AddSingleton<JobMetrics>();
        services.AddSingleton<RecipeCatalog>();
        services.AddSingleton<JobExecutor>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, JobSweeperStartup>();
        services.AddWebhooks();
        services.AddLlm();
        services.AddOptions<AgentsOptions>().BindConfiguration(AgentsOptions.Section).PostConfigure<IConfiguration>(AgentsOptions.ApplyDefaults);
        services.AddSingleton<AgentsFiles>();
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
        return silo.UseInMemoryReminderService();
    }

    /// <summary>
    /// Job storage in Azure Storage: grain state as blobs (no size limit near a large result; stored
    /// as the provider's default JSON), the sweep's reminder and the job index as table rows.
    /// </summary>
    public static ISiloBuilder UseAzureJobStorage(this ISiloBuilder silo, string connectionString)
    {
        silo.Services.RemoveAll<IJobIndex>();
        silo.Services.AddSingleton<IJobIndex>(services => ActivatorUtilities.CreateInstance<AzureTableJobIndex>(
            services, new TableServiceClient(connectionString)));
        return silo.AddAzureBlobGrainStorage(JobStorage.Name, o => o.BlobServiceClient = new BlobServiceClient(connectionString))
            .UseAzureTableReminderService(o => o.TableServiceClient = new TableServiceClient(connectionString));
    }

    /// <summary>Registers a recipe so jobs can run it by its <see cref="IRecipe.Name"/>.</summary>
    public static IServiceCollection AddRecipe<TRecipe>(this IServiceCollection services)
        where TRecipe : class, IRecipe
    {
        services.AddSingleton<IRecipe, TRecipe>();
        return services;
    }

    private static void ApplyEnvironmentOverrides(JobExecutionOptions options, IConfiguration configuration)
    {
        if (configuration[MaxConcurrentVariable] is { Length: > 0 } text)
        {
            options.MaxConcurrent = int.TryParse(text, out var value) ? value : -1;
        }
    }
}
