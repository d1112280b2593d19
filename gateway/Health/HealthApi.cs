using Microsoft.AspNetCore.Http.HttpResults;
using Praison.Orleans.Gateway.Hosting;

namespace Praison.Orleans.Gateway.Health;

/// <summary>
/// <c>GET /health</c> (docs/api.md), and HEAD for probes: always public, answered within
/// <see cref="ClusterStats.Budget"/>; executor figures summed over the silos that answered in time.
/// 503 when no silo answered: this gateway cannot run jobs.
/// </summary>
internal static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/health", [HttpMethods.Get, HttpMethods.Head], GetHealthAsync).WithName("Health").AllowAnonymous()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    private static async Task<Results<Ok<HealthResponse>, ProblemHttpResult>> GetHealthAsync(
        IGrainFactory grains, ClusterFacts cluster, IHostApplicationLifetime lifetime, ILoggerFactory loggers)
    {
        var silos = await ClusterStats.ReadSilosAsync(grains, loggers.CreateLogger(typeof(HealthApi)));
        if (silos.Count == 0)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable, detail: "No silo of the job cluster answered; retry shortly.");
        }

        return TypedResults.Ok(new HealthResponse(
            "healthy",
            cluster.Store,
            ExecutorStatsResponse.From(silos, lifetime),
            new ClusterResponse(silos.Count)));
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
