using System.Security.Cryptography;
using System.Text.Json;
using Hangfire;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Praison.Orleans.Gateway;
using Praison.Orleans.Testing;

namespace Praison.Orleans.Bench;

/// <summary>A system under load on a loopback port, and how to stop it.</summary>
public sealed record Target(string Name, string Url, Func<Task> StopAsync);

/// <summary>The systems the harness starts itself: ours (embedded) and the two baselines.</summary>
public static class Targets
{
    /// <summary>
    /// The gateway as <c>dotnet run --project gateway</c> runs it (embedded silo, memory storage), on free
    /// ports; with <paramref name="azureStorage"/>, the same in Azure storage mode on that account.
    /// </summary>
    public static async Task<Target> StartPraisonAsync(Action<IServiceCollection>? services = null, string? azureStorage = null, params string[] settings)
    {
        var (url, embedded) = EmbeddedGatewayArgs();
        string[] args = [.. embedded, .. settings];
        if (azureStorage is not null)
        {
            args = [.. args, "--Cluster:Storage=Azure", $"--ConnectionStrings:AzureStorage={azureStorage}", $"--Cluster:ServiceId=bench-{Guid.NewGuid():N}"];
        }

        var app = GatewayApp.Build(args, overrides: services);
        await app.StartAsync();
        var name = azureStorage is null ? "praison (embedded)" : "praison (embedded, Azure storage on Azurite)";
        return new Target(name, url, async () => { await app.StopAsync(); await app.DisposeAsync(); });
    }

    /// <summary>
    /// The embedded gateway's arguments on free loopback ports, as every scenario runs it (in this process
    /// or as its own): its address, and quiet logs and no per-tenant quotas or retained-jobs bound — the
    /// bench measures the server, not its quotas.
    /// </summary>
    public static (string Url, string[] Args) EmbeddedGatewayArgs()
    {
        var ports = FreePorts.Take(3);
        var url = $"http://127.0.0.1:{ports[0]}";
        return (url,
        [
            $"--urls={url}", $"--Cluster:SiloPort={ports[1]}", $"--Cluster:GatewayPort={ports[2]}", "--Logging:LogLevel:Default=Warning",
            "--Api:SubmitsPerSecondPerTenant=0", "--Api:MaxLiveJobsPerTenant=0", "--Jobs:MaxRetainedPerTenant=0",
        ]);
    }

    /// <summary>The durable cluster as deployed: <paramref name="silos"/> silo processes behind one gateway process, on <paramref name="azureStorage"/>.</summary>
    public static async Task<Target> StartClusterAsync(int silos, string azureStorage)
    {
        var cluster = await ProcessCluster.StartAsync(azureStorage, silos);
        return new Target($"praison ({silos} silo process{(silos == 1 ? "" : "es")}, Azure)", cluster.Url, async () => await cluster.DisposeAsync());
    }

    /// <summary>The ceiling of HTTP here: a bare Kestrel endpoint that parses the same JSON and answers the same 202 body.</summary>
    public static async Task<Target> StartBareKestrelAsync()
    {
        var app = Slim();
        app.MapPost("/api/v1/runs", async (HttpRequest request) =>
        {
            using var body = await JsonDocument.ParseAsync(request.Body);
            _ = body.RootElement.GetProperty("prompt").GetString();
            return Accepted(request, NewId());
        });
        return await StartAsync("bare Kestrel", app);
    }

    /// <summary>What a .NET user would pick instead: Hangfire (in-memory storage) behind an equivalent endpoint.</summary>
    public static Task<Target> StartHangfireAsync() => StartHangfireAsync("Hangfire InMemory", c => c.UseInMemoryStorage());

    /// <summary>Hangfire on the storage <paramref name="storage"/> configures, behind an endpoint equivalent to ours.</summary>
    public static async Task<Target> StartHangfireAsync(string name, Action<IGlobalConfiguration> storage)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://127.0.0.1:{FreePorts.Take(1)[0]}");
        builder.Services.AddHangfire(storage);
        builder.Services.AddHangfireServer();
        var app = builder.Build();
        app.MapPost("/api/v1/runs", async (HttpRequest request, IBackgroundJobClient jobs) =>
        {
            using var body = await JsonDocument.ParseAsync(request.Body);
            var prompt = body.RootElement.GetProperty("prompt").GetString();
            var id = jobs.Enqueue(() => HangfireEcho.Run(prompt));
            return Accepted(request, id);
        });
        app.MapGet("/api/v1/runs/{id}", (string id) =>
            Results.Ok(new { status = JobStorage.Current.GetConnection().GetStateData(id)?.Name }));
        return await StartAsync(name, app);
    }

    /// <summary>A minimal web application on a free loopback port, quiet logs.</summary>
    public static WebApplication Slim()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://127.0.0.1:{FreePorts.Take(1)[0]}");
        return builder.Build();
    }

    public static async Task<Target> StartAsync(string name, WebApplication app)
    {
        await app.StartAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new Target(name, url, async () => { await app.StopAsync(); await app.DisposeAsync(); });
    }

    /// <summary>The 202 body every target answers a submit with.</summary>
    public static IResult Accepted(HttpRequest request, string id)
    {
        var poll = $"{request.Scheme}://{request.Host}/api/v1/runs/{id}";
        return Results.Json(
            new { job_id = id, status = "queued", created_at = DateTimeOffset.UtcNow, poll_url = poll, stream_url = poll + "/stream" },
            statusCode: 202);
    }

    public static string NewId() => "run_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
}

/// <summary>Hangfire's job: the same echo ours runs.</summary>
public static class HangfireEcho
{
    public static string Run(string? prompt) => prompt ?? "";
}
