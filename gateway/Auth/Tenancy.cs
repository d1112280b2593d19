using System.Security.Claims;

namespace Praison.Orleans.Gateway.Auth;

/// <summary>Which tenant a request acts for, and whether it is the operator's.</summary>
internal static class Tenancy
{
    public const string TenantClaim = "praison:tenant";

    public const string OperatorClaim = "praison:operator";

    /// <summary>The policy of operator-only endpoints (<c>/metrics</c>); every other endpoint needs a tenant.</summary>
    public const string OperatorPolicy = "operator";

    /// <summary>The caller's tenant; every endpoint that asks has required one (the fallback policy).</summary>
    public static string TenantOf(ClaimsPrincipal user) =>
        user.FindFirst(TenantClaim)?.Value ?? throw new InvalidOperationException("The request was authorized without a tenant.");

}
