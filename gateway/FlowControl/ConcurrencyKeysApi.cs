using Praison.Orleans.Gateway.Auth;
using Praison.Orleans.Gateway.Health;

namespace Praison.Orleans.Gateway.FlowControl;

/// <summary>
/// <c>GET /api/v1/concurrency-keys</c> (docs/api.md, Flow control): the caller's concurrency keys that
/// jobs hold or wait for right now, with their running and waiting counts summed over every silo that
/// answers in time (a key none of whose jobs is live is not listed).
/// </summary>
internal static class ConcurrencyKeysApi
{
    /// <summary>The most keys one answer lists (by name); <c>total</c> still counts every one.</summary>
    public const int MaxListed = 1000;

    public static IEndpointRouteBuilder MapConcurrencyKeysApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/concurrency-keys", ListAsync).WithName("ListConcurrencyKeys")
            .WithDescription($"The tenant's concurrency keys with live jobs: running and waiting counts across the cluster, by key name (at most {MaxListed}).");
        return app;
    }

    private static async Task<ConcurrencyKeysResponse> ListAsync(HttpContext context, IGrainFactory grains, ILoggerFactory loggers)
    {
        var tenant = Tenancy.TenantOf(context.User);
        var silos = await ClusterStats.AskEverySiloAsync(
            grains, silo => grains.GetGrain<IKeyLeaseAgentGrain>(silo.ToParsableString()).GetKeysAsync(tenant), loggers.CreateLogger(typeof(ConcurrencyKeysApi)));
        var keys = silos.SelectMany(tallies => tallies)
            .GroupBy(t => t.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, Running: g.Sum(t => t.Running), Waiting: g.Sum(t => t.Waiting), g.First().Limits))
            .Select(k => new ConcurrencyKeyResponse(k.Key, k.Running, k.Waiting, k.Limits.Concurrency,
                k.Limits.Throttled ? new ThrottleResponse(k.Limits.Starts, (int)k.Limits.Period.TotalSeconds) : null))
            .OrderBy(k => k.Key, StringComparer.Ordinal)
            .ToList();
        return new ConcurrencyKeysResponse(keys.Take(MaxListed).ToList(), keys.Count, silos.Count);
    }
}

public sealed record ConcurrencyKeysResponse(IReadOnlyList<ConcurrencyKeyResponse> Keys, int Total, int Silos);

public sealed record ConcurrencyKeyResponse(
    string Key, int Running, int Waiting, int Limit,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] ThrottleResponse? Throttle);

public sealed record ThrottleResponse(int Starts, int PerSeconds);
