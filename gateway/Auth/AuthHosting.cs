using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Praison.Orleans.Gateway.Auth;

internal static class AuthHosting
{
    /// <summary>API-key authentication (docs/api.md: API keys and tenants) and a fallback policy: every endpoint needs a
    /// tenant unless it opts out (<c>/health</c>) or asks for the operator (<c>/metrics</c>).</summary>
    public static WebApplicationBuilder AddApiKeyAuth(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ApiKeyOptions>()
            .BindConfiguration(ApiKeyOptions.Section)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ApiKeyOptions>>(new ProblemsValidator<ApiKeyOptions>(o => o.Problems()));
        builder.Services.AddSingleton<ApiKeyRing>();
        builder.Services.AddSingleton(services => new BindAddresses(() =>
            services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? []));
        builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        builder.Services.AddSingleton<BrowserGuard>();
        builder.Services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireClaim(Tenancy.TenantClaim).Build())
            .AddPolicy(Tenancy.OperatorPolicy, policy => policy.RequireClaim(Tenancy.OperatorClaim));
        return builder;
    }
}
