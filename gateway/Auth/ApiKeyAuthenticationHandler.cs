using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Praison.Orleans.Gateway.Auth;

/// <summary>
/// Authenticates a request by its API key (<c>Authorization: Bearer &lt;key&gt;</c> or
/// <c>X-API-Key: &lt;key&gt;</c>) as the key's holder: a tenant, the operator, or both. With no key
/// configured, a loopback-only gateway lets every caller in as tenant <c>default</c> and operator, and
/// any other gateway lets nobody in (fail closed). Refusals are 401 with the upstream body
/// <c>{"error": …}</c>; a key that may not do what it asks (an operator-only key on the jobs API, a
/// tenant's key on <c>/metrics</c>) is 403 problem JSON.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyRing keys,
    BindAddresses bind) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    public const string Unauthorized = "Unauthorized";

    public const string KeyRequired = "PRAISONAI_JOBS_API_KEY required for non-localhost binding";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!keys.Enabled)
        {
            return Task.FromResult(bind.LoopbackOnly
                ? Success(new KeyHolder(JobKeys.DefaultTenant, Operator: true))
                : AuthenticateResult.Fail(KeyRequired));
        }

        if (PresentedKey() is not { } presented)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        return Task.FromResult(keys.HolderOf(presented) is { } holder
            ? Success(holder)
            : AuthenticateResult.Fail(Unauthorized));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        var error = keys.Enabled || bind.LoopbackOnly ? Unauthorized : KeyRequired;
        await Response.WriteAsJsonAsync(new { error });
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Context.WriteProblemAsync(StatusCodes.Status403Forbidden, Context.User.HasClaim(c => c.Type == Tenancy.TenantClaim)
            ? "This key is a tenant's: /metrics shows every tenant's counts and needs an operator key (Auth:MetricsKeySha256)."
            : "This key reads /metrics only (Auth:MetricsKeySha256); the jobs API needs a tenant's key.");

    private string? PresentedKey()
    {
        var authorization = Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization["Bearer ".Length..].Trim();
        }

        return Request.Headers["X-API-Key"].ToString() is { Length: > 0 } key ? key : null;
    }

    /// <summary>One principal per holder, made once: a principal is never changed after authentication, and every request has one.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<KeyHolder, ClaimsPrincipal> Principals = new();

    private static AuthenticateResult Success(KeyHolder holder) =>
        AuthenticateResult.Success(new AuthenticationTicket(Principals.GetOrAdd(holder, PrincipalOf), SchemeName));

    private static ClaimsPrincipal PrincipalOf(KeyHolder holder)
    {
        var claims = new List<Claim>();
        if (holder.Tenant is { } tenant)
        {
            claims.Add(new Claim(Tenancy.TenantClaim, tenant));
        }

        if (holder.Operator)
        {
            claims.Add(new Claim(Tenancy.OperatorClaim, "true"));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
    }
}
