using Praison.Orleans.Grains.Hosting;

namespace Praison.Orleans.Gateway.Health;

/// <summary><c>GET /health</c> (spec §2): always public; executor figures summed over every live silo.</summary>
internal static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", GetHealthAsync).WithName("Health").AllowAnonymous();
        return app;
    }

    private static async Task<HealthResponse> GetHealthAsync(
        IGrainFactory grains, JobsClusterOptions cluster, IHostApplicationLifetime lifetime)
    {
        var silos = await ClusterStats.ReadSilosAsync(grains);
        return new HealthResponse(
            "healthy",
            cluster.Storage.ToString().ToLowerInvariant(),
            ExecutorStatsResponse.From(silos, lifetime),
            new ClusterResponse(silos.Count));
    }
}

public sealed record HealthResponse(string Status, string Store, ExecutorStatsResponse ExecutorStats, ClusterResponse Cluster);

public sealed record ExecutorStatsResponse(int RunningJobs, int MaxConcurrent, int DefaultTimeout, bool Shutdown)
{
    /// <summary>The figures of every silo summed; <c>shutdown</c> is this gateway's own.</summary>
    public static ExecutorStatsResponse From(IReadOnlyList<SiloExecutorStats> silos, IHostApplicationLifetime lifetime) => new(
        silos.Sum(s => s.RunningJobs),
        silos.Sum(s => s.MaxConcurrent),
        silos.Select(s => s.DefaultTimeoutSeconds).DefaultIfEmpty(0).Max(),
        lifetime.ApplicationStopping.IsCancellationRequested);
}

public sealed record ClusterResponse(int Silos);
