using Praison.Orleans.Gateway.Auth;

namespace Praison.Orleans.Gateway.Health;

/// <summary><c>GET /stats</c> (docs/api.md): executor figures of every silo and the caller's stored jobs, cluster-wide.</summary>
internal static class StatsApi
{
    public static IEndpointRouteBuilder MapStatsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/stats", GetStatsAsync).WithName("Stats");
        return app;
    }

    private static async Task<StatsResponse> GetStatsAsync(
        HttpContext context, IGrainFactory grains, IHostApplicationLifetime lifetime, ILoggerFactory loggers)
    {
        var silos = ClusterStats.ReadSilosAsync(grains, loggers.CreateLogger(typeof(StatsApi)));
        var store = await grains.GetGrain<IJobQueryGrain>(0).StatsAsync(Tenancy.TenantOf(context.User));
        return new StatsResponse(
            ExecutorStatsResponse.From(await silos, lifetime),
            new StoreStatsResponse(
                store.TotalJobs,
                store.IdempotencyKeys,
                store.StatusCounts.ToDictionary(c => c.Key.ToWireName(), c => c.Value)));
    }
}

public sealed record StatsResponse(ExecutorStatsResponse Executor, StoreStatsResponse Store);

public sealed record StoreStatsResponse(int TotalJobs, int IdempotencyKeys, IReadOnlyDictionary<string, int> StatusCounts);
