using Microsoft.AspNetCore.Builder;
using Microsoft.Playwright;
using Praison.Orleans.Gateway;

namespace Praison.Orleans.Tests.Browser;

/// <summary>
/// Real Chromium (Debian's package, which the test script installs; no browser download) driven by
/// Playwright, and two embedded gateways on loopback: one open, one that requires an API key.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    /// <summary>Where Debian's chromium package puts the browser.</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    public const string ApiKey = "dashboard-test-key";

    private readonly List<WebApplication> _gateways = [];
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>The open gateway, and a client of it.</summary>
    public string Url { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    /// <summary>The gateway that requires <see cref="ApiKey"/>, and a client of it that sends the key.</summary>
    public string AuthUrl { get; private set; } = null!;

    public HttpClient AuthHttp { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Url = await StartGatewayAsync();
        AuthUrl = await StartGatewayAsync($"--PRAISONAI_JOBS_API_KEY={ApiKey}");
        Http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(30) };
        AuthHttp = new HttpClient { BaseAddress = new Uri(AuthUrl), Timeout = TimeSpan.FromSeconds(30) };
        AuthHttp.DefaultRequestHeaders.Authorization = new("Bearer", ApiKey);
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: scripts/test.sh installs Debian's chromium package.");
        }

        Assertions.SetDefaultExpectTimeout(20_000); // conditions, generously bounded
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox"], // tests may run as root, where Chromium's sandbox cannot start
        });
    }

    /// <summary>A fresh page (its own storage) whose dialogs (confirm) are accepted.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new() { Width = 1200, Height = 700 } });
        var page = await context.NewPageAsync();
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        return page;
    }

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        AuthHttp?.Dispose();
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        foreach (var gateway in _gateways)
        {
            await gateway.StopAsync();
            await gateway.DisposeAsync();
        }
    }

    private async Task<string> StartGatewayAsync(params string[] settings)
    {
        var ports = FreePorts.Take(3);
        var url = $"http://127.0.0.1:{ports[0]}";
        var gateway = GatewayApp.Build(
        [
            $"--urls={url}", $"--Cluster:SiloPort={ports[1]}", $"--Cluster:GatewayPort={ports[2]}",
            "--Logging:LogLevel:Default=Warning", .. settings,
        ]);
        await gateway.StartAsync();
        _gateways.Add(gateway);
        return url;
    }
}
