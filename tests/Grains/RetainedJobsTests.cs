using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Praison.Orleans.Tests.Grains;

/// <summary>Memory mode keeps at most Jobs:MaxRetainedPerTenant finished jobs per tenant (docs/api.md: Limits).</summary>
public sealed class RetainedJobsTests
{
    [Fact]
    public async Task PastTheBound_ATenantsOldestFinishedJobsAreRemoved_AndTheNewestKept()
    {
        await using var app = EmbeddedGateways.Build(out var url, null, "--Jobs:MaxRetainedPerTenant=5");
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        var ids = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            ids.Add(await http.SubmitJobAsync(new { prompt = $"job {i}", recipe_name = "echo" }));
            await http.UntilStatusAsync(ids[^1], "succeeded"); // they end in order
        }

        var live = await http.SubmitJobAsync(new { prompt = "", recipe_name = "wait", recipe_config = new { seconds = 600 } });

        var oldest = await Eventually.Until(
            () => Task.WhenAll(ids.Take(3).Select(id => http.GetAsync($"/api/v1/runs/{id}"))),
            answers => answers.All(a => a.StatusCode == HttpStatusCode.NotFound),
            "the three oldest finished jobs to be removed");
        var listed = (await http.GetFromJsonAsync<JsonObject>("/api/v1/runs?page_size=100"))!;
        var stats = (await http.GetFromJsonAsync<JsonObject>("/stats"))!["store"]!;

        Assert.Equal(ids.Skip(3).Append(live).Reverse(), listed["jobs"]!.AsArray().Select(j => (string)j!["job_id"]!));
        Assert.Equal(6, (int)listed["total"]!);
        Assert.Equal((6, 5), ((int)stats["total_jobs"]!, (int)stats["status_counts"]!["succeeded"]!)); // and the live one
        Assert.Equal("job 7", (string)(await http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{ids[^1]}/result"))!["result"]!);
        await http.PostAsync($"/api/v1/runs/{live}/cancel", null);
        await app.StopAsync();
    }
}
