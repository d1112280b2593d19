using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Praison.Orleans.Gateway;

namespace Praison.Orleans.Tests.Infrastructure;

/// <summary>The embedded gateway — what <c>dotnet run --project gateway</c> starts — on free loopback ports.</summary>
public static class EmbeddedGateways
{
    /// <summary>Builds it (not started) with <paramref name="settings"/> as extra arguments; <paramref name="url"/> is where it will listen.</summary>
    public static WebApplication Build(out string url, Action<IServiceCollection>? overrides, params string[] settings)
    {
        var ports = FreePorts.Take(3);
        url = $"http://127.0.0.1:{ports[0]}";
        return GatewayApp.Build(
        [
            $"--urls={url}", $"--Cluster:SiloPort={ports[1]}", $"--Cluster:GatewayPort={ports[2]}",
            "--Logging:LogLevel:Default=None", .. settings,
        ], overrides: overrides);
    }
}
