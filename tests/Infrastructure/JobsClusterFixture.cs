using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.Placement;
using Orleans.TestingHost;
using Praison.Orleans.Gateway;
using Praison.Orleans.Gateway.Auth;
using Praison.Orleans.Grains.Execution;
using Praison.Orleans.Grains.FlowControl;
using Praison.Orleans.Grains.Hosting;
using Praison.Orleans.Grains.Index;
using Praison.Orleans.Grains.Llm;
using Praison.Orleans.Grains.Schedules;

namespace Praison.Orleans.Tests.Infrastructure;

/// <summary>
/// A real 3-silo in-process cluster (in-memory job storage and reminders, 2 slots per silo, the probe
/// recipe registered) and the real gateway pipeline on Kestrel at a loopback port, calling the cluster
/// through the test cluster's client (in-process silos talk over an in-memory transport, so a gateway
/// of its own could not dial them; real client-mode connections are the silo-process tests' job).
/// </summary>
public class JobsClusterFixture : IAsyncLifetime
{
    public const int Silos = 3;

    public const int SlotsPerSilo = 2;

    private readonly List<WebApplication> _gateways = [];

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    /// <summary>A client of the first gateway (which allows webhooks to loopback receivers).</summary>
    public HttpClient Http { get; private set; } = null!;

    /// <summary>A client of a second gateway of the same cluster, for races between gateways (default
    /// webhook rules: private targets refused).</summary>
    public HttpClient Http2 { get; private set; } = null!;

    /// <summary>
    /// A client (no key set) of a gateway that requires API keys: <see cref="AcmeKey"/> for tenant
    /// <c>acme</c>, <see cref="GlobexKey"/> for <c>globex</c>, configured as SHA-256 hashes.
    /// </summary>
    public HttpClient AuthHttp { get; private set; } = null!;

    public const string AcmeKey = "acme-secret-key-1";

    /// <summary>The silos sign webhooks with this secret.</summary>
    public const string WebhookSecret = "webhook-test-secret";

    public const string GlobexKey = "globex-other-key";

    /// <summary>Schedules may fire every 2 s here (production: every minute).</summary>
    public static readonly TimeSpan ScheduleMinInterval = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The concurrency key rules of the cluster's silos: keys <c>two:*</c>, <c>three:*</c> and <c>five:*</c>
    /// run that many jobs at once; <c>throttled:*</c> starts at most 5 jobs per 2 seconds.
    /// </summary>
    public static readonly KeyRule[] FlowControlRules =
    [
        new() { Key = "two:*", Concurrency = 2 },
        new() { Key = "three:*", Concurrency = 3 },
        new() { Key = "five:*", Concurrency = 5 },
        new() { Key = "throttled:*", Starts = 5, PerSeconds = 2 },
    ];

    /// <summary>What the cluster's silos store: they share one process, so one store, as they would a database.</summary>
    public MemoryJobStore Store { get; } = new();

    public async Task InitializeAsync()
    {
        await PrepareStorageAsync();
        var builder = new InProcessTestClusterBuilder((short)SiloCount);
        builder.ConfigureSilo((_, silo) =>
        {
            UseStorage(silo).WithStorageFaults().AddPraisonJobs().WithIndexFaults();
            silo.AddOutgoingGrainCallFilter(GrainCalls.Record);
            silo.Services.AddRecipe<ProbeRecipe>();
            silo.Services.AddRecipe<BigRecipe>();
            // No LLM here, whatever the environment says (the prompt-only test expects the clear error).
            silo.Services.Configure<LlmOptions>(o => (o.ApiKey, o.BaseUrl) = (null, null));
            silo.Services.Configure<WebhookOptions>(o =>
            {
                o.SigningSecret = WebhookSecret;
                o.FirstRetryDelay = TimeSpan.FromMilliseconds(50);
                o.AllowPrivateTargets = SilosAllowPrivateWebhookTargets; // the receivers are on loopback
                ConfigureWebhooks(o);
            });
            silo.Services.Configure<JobsOptions>(o =>
            {
                o.MaxConcurrent = SlotsPerSilo;
                o.ReservedSlots = 0; // tests here count slots; which tenants ran before them must not change that
                o.ProgressCheckpointInterval = TimeSpan.FromMilliseconds(200);
                ConfigureJobs(o);
            });
            silo.Services.Configure<FlowControlOptions>(o =>
            {
                o.Keys.AddRange(FlowControlRules);
                o.ThrottleMargin = TimeSpan.FromMilliseconds(500); // a probe's start lags its grant by a write and a hop
            });
            silo.Services.Configure<SchedulesOptions>(o => (o.MinInterval, o.CheckPeriod) = (ScheduleMinInterval, TimeSpan.FromSeconds(1)));
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1)); // a derived fixture's sweep, schedules
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();

        Http = await StartGatewayAsync("--Webhooks:AllowPrivateTargets=true");
        Http2 = await StartGatewayAsync();
        AuthHttp = await StartGatewayAsync(
            $"--Auth:Tenants:acme:KeySha256:0={Convert.ToHexString(ApiKeyRing.Digest(AcmeKey))}",
            $"--Auth:Tenants:globex:KeySha256:0={Convert.ToHexString(ApiKeyRing.Digest(GlobexKey))}");
    }

    /// <summary>Another gateway of this cluster with <paramref name="settings"/>; stopped with the fixture.</summary>
    public Task<HttpClient> StartGatewayAsync(params string[] settings) => StartGatewayAsync(null, settings);

    /// <summary>A gateway that believes it listens on a public address (tests may only listen on loopback): keyless, it is closed.</summary>
    public Task<HttpClient> StartPublicGatewayAsync(params string[] settings) =>
        StartGatewayAsync(services => services.AddSingleton(new BindAddresses(() => ["http://0.0.0.0:8005"])), settings);

    /// <summary>Another gateway of this cluster with <paramref name="settings"/> and service <paramref name="overrides"/>; stopped with the fixture.</summary>
    public async Task<HttpClient> StartGatewayAsync(Action<IServiceCollection>? overrides, params string[] settings)
    {
        var gateway = GatewayApp.Build(
            ["--urls=http://127.0.0.1:0", "--Cluster:Mode=Client", "--Logging:LogLevel:Default=Warning", .. settings], Client, overrides);
        await gateway.StartAsync();
        _gateways.Add(gateway);
        var address = gateway.Services.GetRequiredService<IServer>().Features
            .Get<IServerAddressesFeature>()!.Addresses.Single();
        return new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };
    }

    protected virtual int SiloCount => Silos;

    /// <summary>Makes ready what a derived fixture's silos store in, before they start. Default: nothing (memory).</summary>
    protected virtual Task PrepareStorageAsync() => Task.CompletedTask;

    /// <summary>Where the silos keep jobs, index and reminders. Default: memory (<see cref="Store"/>).</summary>
    protected virtual ISiloBuilder UseStorage(ISiloBuilder silo) => silo.UseInMemoryJobStorage(Store);

    /// <summary>Stops what <see cref="PrepareStorageAsync"/> started, after the silos.</summary>
    protected virtual ValueTask DisposeStorageAsync() => ValueTask.CompletedTask;

    /// <summary>Whether the silos deliver webhooks to non-public addresses (loopback receivers). Default: true.</summary>
    protected virtual bool SilosAllowPrivateWebhookTargets => true;

    /// <summary>Webhook options of a derived fixture's silos.</summary>
    protected virtual void ConfigureWebhooks(WebhookOptions options)
    {
    }

    /// <summary>Job options of a derived fixture's silos.</summary>
    protected virtual void ConfigureJobs(JobsOptions options)
    {
    }

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        Http2?.Dispose();
        AuthHttp?.Dispose();
        foreach (var gateway in _gateways)
        {
            await gateway.StopAsync();
            await gateway.DisposeAsync();
        }

        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        await DisposeStorageAsync();
    }

    /// <summary>A job grain with a fresh id that will activate on <paramref name="silo"/> (any silo when null).</summary>
    public IJobGrain NewJob(out string jobId, SiloAddress? silo = null)
    {
        jobId = JobIds.New();
        var grain = Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, jobId));
        return silo is null ? grain : new PinnedJob(grain, silo);
    }

    public SiloAddress FirstSilo => Cluster.Silos[0].SiloAddress;

    /// <summary>Sets the placement hint around the first call, so the grain activates on the chosen silo.</summary>
    private sealed class PinnedJob(IJobGrain inner, SiloAddress silo) : IJobGrain
    {
        public async Task<SubmitReply> SubmitAsync(JobSpec spec)
        {
            RequestContext.Set(IPlacementDirector.PlacementHintKey, silo);
            try
            {
                return await inner.SubmitAsync(spec);
            }
            finally
            {
                RequestContext.Remove(IPlacementDirector.PlacementHintKey);
            }
        }

        public Task<JobSnapshot?> GetStatusAsync() => inner.GetStatusAsync();

        public Task<JobResultReply> GetResultAsync() => inner.GetResultAsync();

        public Task<JobCommandReply> CancelAsync() => inner.CancelAsync();

        public Task<JobCommandReply> DeleteAsync() => inner.DeleteAsync();

        public IAsyncEnumerable<JobEvent> WatchAsync(long afterEventId, CancellationToken cancellationToken = default) =>
            inner.WatchAsync(afterEventId, cancellationToken);

        public Task<DependantStatus> AddDependantAsync(string dependantId) => inner.AddDependantAsync(dependantId);

        public Task<JobEnd?> AwaitEndAsync(TimeSpan wait, CancellationToken cancellationToken = default) => inner.AwaitEndAsync(wait, cancellationToken);

        public Task<bool> WaitsOnAsync(string parentId) => inner.WaitsOnAsync(parentId);

        public Task DependantSettledAsync(string dependantId) => inner.DependantSettledAsync(dependantId);
    }
}

[CollectionDefinition(Name)]
public sealed class JobsClusterCollection : ICollectionFixture<JobsClusterFixture>
{
    public const string Name = "jobs cluster";
}

/// <summary>The same cluster and gateways with their jobs, index and reminders in a real PostgreSQL server.</summary>
public sealed class PostgresJobsClusterFixture : JobsClusterFixture
{
    private PostgresServer? _server;
    private string _database = null!;

    protected override async Task PrepareStorageAsync()
    {
        _server = await PostgresServer.StartAsync();
        _database = await _server.CreateDatabaseAsync();
    }

    protected override ISiloBuilder UseStorage(ISiloBuilder silo) => silo.UsePostgresJobStorage(_database);

    protected override async ValueTask DisposeStorageAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresJobsClusterCollection : ICollectionFixture<PostgresJobsClusterFixture>
{
    public const string Name = "postgres jobs cluster";
}
