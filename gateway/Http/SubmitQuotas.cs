using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Praison.Orleans.Gateway.Auth;

namespace Praison.Orleans.Gateway.Http;

/// <summary>
/// What one tenant may submit: <see cref="ApiOptions.SubmitsPerSecondPerTenant"/> (a token bucket per
/// tenant, ASP.NET Core's rate limiter) and <see cref="LiveJobsOptions.MaxLiveJobsPerTenant"/>
/// (<see cref="LiveJobQuota"/>). Past either, a submit is 429 problem JSON with <c>Retry-After</c>.
/// </summary>
internal static class SubmitQuotas
{
    public const string RatePolicy = "submits-per-tenant";

    public static WebApplicationBuilder AddSubmitQuotas(this WebApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddLiveJobsOptions();
        builder.Services.AddSingleton<LiveJobQuota>();
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(RatePolicy, context =>
            {
                var rate = context.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value
                    .SubmitRate(keysConfigured: context.RequestServices.GetRequiredService<ApiKeyRing>().Enabled);
                return rate.PerSecond <= 0
                    ? RateLimitPartition.GetNoLimiter(string.Empty)
                    : RateLimitPartition.GetTokenBucketLimiter(Tenancy.TenantOf(context.User), _ => Bucket(rate.PerSecond, rate.Burst));
            });
            limiter.OnRejected = RejectAsync;
        });
        return builder;
    }

    /// <summary>The bucket: the burst, refilled at the rate (one token per longer period below one a second).</summary>
    private static TokenBucketRateLimiterOptions Bucket(double perSecond, int burst) => new()
    {
        TokenLimit = burst,
        TokensPerPeriod = perSecond >= 1 ? (int)Math.Round(perSecond) : 1,
        ReplenishmentPeriod = perSecond >= 1 ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(1 / perSecond),
        QueueLimit = 0,
    };

    /// <summary>A 429 problem with <c>Retry-After</c> (whole seconds, at least one).</summary>
    private static async ValueTask RejectAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        await rejected.HttpContext.WriteProblemAsync(StatusCodes.Status429TooManyRequests,
            "Too many submits: this tenant's submit rate is limited (Api:SubmitsPerSecondPerTenant). Retry after the time given.", retryAfter);
    }
}

/// <summary>
/// <see cref="LiveJobsOptions.MaxLiveJobsPerTenant"/> on this gateway: a tenant's queued and running jobs,
/// counted by the job index (cluster-wide) at most once per <see cref="Freshness"/> per tenant, plus the
/// jobs this gateway's submits created since. A submit takes a place before it asks the cluster and
/// keeps it only when a job was created: a refused or repeated submit leaves the count as it was.
/// </summary>
internal sealed class LiveJobQuota(IGrainFactory grains, IOptions<LiveJobsOptions> options, TimeProvider time)
{
    public static readonly TimeSpan Freshness = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, Tally> _tallies = new(StringComparer.Ordinal);

    /// <summary>
    /// A place for <paramref name="count"/> more live jobs of <paramref name="tenant"/> (a batch's), or null when the tenant has no room for them all.
    /// Dispose it to give it back unless <see cref="Place.Keep"/> was called (a job was created).
    /// </summary>
    public async Task<Place?> TryTakeAsync(string tenant, int count = 1)
    {
        var quota = options.Value;
        if (quota.MaxLiveJobsPerTenant <= 0)
        {
            return Place.Unlimited;
        }

        var tally = _tallies.GetOrAdd(tenant, static _ => new Tally());
        var now = time.GetUtcNow();
        if (tally.IsStale(now))
        {
            tally.Refresh(await grains.GetGrain<IJobQueryGrain>(0).LiveCountAsync(tenant), now);
        }

        return tally.TryTake(quota, count) ? Place.Of(tally, count) : null;
    }

    /// <summary>The 429 of a tenant past its live jobs, with <c>Retry-After</c>.</summary>
    public Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Refusal(HttpContext context) =>
        ApiProblems.TooManyRequests(context, options.Value.Refusal + ". Retry once some have ended.", TimeSpan.FromSeconds(5));

    /// <summary>One tenant's live jobs as this gateway knows them.</summary>
    internal sealed class Tally
    {
        private readonly Lock _gate = new();
        private int _count;
        private DateTimeOffset _readAt = DateTimeOffset.MinValue;

        public bool IsStale(DateTimeOffset now)
        {
            lock (_gate)
            {
                return now - _readAt >= Freshness;
            }
        }

        public void Refresh(int count, DateTimeOffset readAt)
        {
            lock (_gate)
            {
                if (readAt > _readAt)
                {
                    (_count, _readAt) = (count, readAt);
                }
            }
        }

        public bool TryTake(LiveJobsOptions quota, int count)
        {
            lock (_gate)
            {
                if (!quota.HasRoom(_count + count - 1))
                {
                    return false;
                }

                _count += count;
                return true;
            }
        }

        public void Return(int count)
        {
            lock (_gate)
            {
                _count = Math.Max(0, _count - count);
            }
        }
    }

    /// <summary>A taken place: given back when disposed, unless kept.</summary>
    public sealed class Place : IDisposable
    {
        public static readonly Place Unlimited = new(null, 0);

        private readonly int _count;
        private Tally? _tally;

        private Place(Tally? tally, int count) => (_tally, _count) = (tally, count);

        public static Place Of(Tally tally, int count) => new(tally, count);

        /// <summary>A job was created: it counts until the index counts it.</summary>
        public void Keep() => _tally = null;

        public void Dispose() => Interlocked.Exchange(ref _tally, null)?.Return(_count);
    }
}
