using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Praison.Orleans.Gateway.Auth;

/// <summary>
/// Authenticates a request by its API key (<c>Authorization: Bearer &lt;key&gt;</c> or
/// <c>X-API-Key: &lt;key&gt;</c>) as the key's tenant. With no key configured, a loopback-only gateway
/// lets every caller in as tenant <c>default</c>, and any other gateway lets nobody in (fail closed).
/// Refusals are 401 with the upstream body <c>{"error": …}</c>.
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
                ? Success(JobKeys.DefaultTenant)
                : AuthenticateResult.Fail(KeyRequired));
        }

        if (PresentedKey() is not { } presented)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        return Task.FromResult(keys.TenantOf(presented) is { } tenant
            ? Success(tenant)
            : AuthenticateResult.Fail(Unauthorized));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        var error = keys.Enabled || bind.LoopbackOnly ? Unauthorized : KeyRequired;
        await Response.WriteAsJsonAsync(new { error });
    }

    private string? PresentedKey()
    {
        var authorization = Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization["Bearer ".Length..].Trim();
        }

        return Request.Headers["X-API-Key"].ToString() is { Length: > 0 } key ? key : null;
    }

    private static AuthenticateResult Success(string tenant)
    {
        var identity = new ClaimsIdentity([new Claim(Tenancy.TenantClaim, tenant)], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}
