using System.Security.Claims;

namespace Praison.Orleans.Gateway.Auth;

/// <summary>Which tenant a request acts for: the authenticated caller's, or the default one when auth is off.</summary>
internal static class Tenancy
{
    public const string TenantClaim = "praison:tenant";

    public static string TenantOf(ClaimsPrincipal user) =>
        user.FindFirst(TenantClaim)?.Value ?? JobKeys.DefaultTenant;

    /// <summary>The caller's job grain for <paramref name="jobId"/>; another tenant's job is a grain with nothing in it.</summary>
    public static IJobGrain JobOf(this IGrainFactory grains, HttpContext context, string jobId) =>
        grains.Job(TenantOf(context.User), jobId);
}
