using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using static Microsoft.Playwright.Assertions;

namespace Praison.Orleans.Tests.Browser;

/// <summary>
/// Another site's page in real Chromium against the keyless gateway (docs/api.md: Security): what it can
/// send without a CORS preflight — a <c>no-cors</c> fetch and a <c>text/plain</c> form — is refused
/// and makes no job.
/// </summary>
public sealed class CrossSitePageTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task AnotherSitesPage_CannotSubmitJobsToTheKeylessGateway()
    {
        var (fetched, posted) = ("evil-fetch-" + Guid.NewGuid().ToString("N"), "evil-form-" + Guid.NewGuid().ToString("N"));
        var runs = fixture.Url + "/api/v1/runs";
        var html = $$"""
            <!doctype html><title>loading</title>
            <form id="f" method="POST" action="{{runs}}" enctype="text/plain">
              <input name='{"prompt": "x", "recipe_name": "echo", "session_id": "{{posted}}", "pad": "' value='"}'>
            </form>
            <script>
              fetch("{{runs}}", { method: "POST", mode: "no-cors", headers: { "Content-Type": "text/plain" },
                body: JSON.stringify({ prompt: "x", recipe_name: "echo", session_id: "{{fetched}}" }) })
                .finally(() => { document.title = "sent"; });
            </script>
            """;
        await using var evil = await LoopbackServer.StartAsync(app => app.MapGet("/", () => Results.Content(html, "text/html")));
        var page = await fixture.NewPageAsync();

        // localhost is another site than 127.0.0.1, as evil.example would be (and both are loopback, so no
        // private-network rule of the browser's own steps in).
        await page.GotoAsync(evil.BaseUrl.Replace("127.0.0.1", "localhost", StringComparison.Ordinal));
        await Expect(page).ToHaveTitleAsync("sent");
        var form = await page.RunAndWaitForResponseAsync(
            () => page.EvalOnSelectorAsync("#f", "form => form.submit()"), response => response.Url == runs);

        Assert.Equal(403, form.Status);
        Assert.Contains("Cross-site request refused", await form.TextAsync());
        foreach (var session in new[] { fetched, posted })
        {
            Assert.Equal(0, (int)(await fixture.Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs?session_id={session}"))!["total"]!);
        }
    }
}
