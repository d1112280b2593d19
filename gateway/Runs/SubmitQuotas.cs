using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Praison.Orleans.Gateway.Auth;

namespace Praison.Orleans.Gateway.Runs;

/// <summary>
/// What one tenant may submit: <see cref="RunsApiOptions.SubmitsPerSecondPerTenant"/> (a token bucket per
/// tenant, ASP.NET Core's rate limiter) and <see cref="RunsApiOptions.MaxLiveJobsPerTenant"/>
/// (<see cref="LiveJobQuota"/>). Past either, a submit is 429 problem JSON with <c>Retry-After</c>.
/// </summary>
internal static class SubmitQuotas
{
    public const string RatePolicy = "submits-per-tenant";

    public static WebApplicationBuilder AddSubmitQuotas(this WebApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<LiveJobQuota>();
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(RatePolicy, context =>
            {
                var rate = context.RequestServices.GetRequiredService<IOptions<RunsApiOptions>>().Value
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

    private static async ValueTask RejectAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        await WriteTooManyAsync(
            rejected.HttpContext, retryAfter,
            "Too many submits: this tenant's submit rate is limited (Api:SubmitsPerSecondPerTenant). Retry after the time given.");
    }

    /// <summary>Writes a 429 problem with <c>Retry-After</c> (whole seconds, at least one).</summary>
    private static async Task WriteTooManyAsync(HttpContext context, TimeSpan retryAfter, string detail)
    {
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = StatusCodes.Status429TooManyRequests, Detail = detail },
        });
    }
}

/// <summary>
/// <see cref="RunsApiOptions.MaxLiveJobsPerTenant"/>: a tenant's queued and running jobs, counted by the
/// job index (cluster-wide) at most once per <see cref="Freshness"/> per tenant on this gateway, plus the
/// submits this gateway let through since.
/// </summary>
internal sealed class LiveJobQuota(IGrainFactory grains, IOptions<RunsApiOptions> options, TimeProvider time)
{
    public static readonly TimeSpan Freshness = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, (int Count, DateTimeOffset ReadAt)> _counts = new(StringComparer.Ordinal);

    /// <summary>True when <paramref name="tenant"/> may have one more live job; counts it if so.</summary>
    public async Task<bool> TryTakeAsync(string tenant)
    {
        var max = options.Value.MaxLiveJobsPerTenant;
        if (max <= 0)
        {
            return true;
        }

        var now = time.GetUtcNow();
        if (!_counts.TryGetValue(tenant, out var known) || now - known.ReadAt >= Freshness)
        {
            known = (await grains.GetGrain<IJobQueryGrain>(0).LiveCountAsync(tenant), now);
        }

        var allowed = known.Count < max;
        _counts[tenant] = allowed ? (known.Count + 1, known.ReadAt) : known;
        return allowed;
    }

    /// <summary>The 429 of a tenant past its live jobs, with <c>Retry-After</c>.</summary>
    public Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Refusal(HttpContext context)
    {
        context.Response.Headers.RetryAfter = "5";
        return ApiProblems.Problem(StatusCodes.Status429TooManyRequests,
            $"Too many live jobs: a tenant may have {options.Value.MaxLiveJobsPerTenant} queued or running jobs (Api:MaxLiveJobsPerTenant). Retry once some have ended.");
    }
}
