using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Praison.Orleans.Tests.Schedules;

/// <summary>A schedule's firings keep to the tenant's live-jobs quota, as a direct submit does (docs/api.md: Schedules, Limits).</summary>
public sealed class ScheduleQuotaTests
{
    [Fact]
    public async Task FiringsOfAnOverlappingSchedule_StopAtTheLiveJobsQuota_AndSaySo()
    {
        // Embedded: the gateway and the silo read the one setting, as every process of a cluster does.
        await using var app = EmbeddedGateways.Build(out var url, null, "--Api:MaxLiveJobsPerTenant=2", "--Schedules:MinInterval=00:00:01");
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/api/v1/schedules", new
        {
            schedule_id = "every-second", cron = "* * * * * *", overlap = "allow",
            job = new { prompt = "x", recipe_name = "wait", recipe_config = new { seconds = 600 } },
        })).StatusCode);

        var skipping = await Eventually.Until(
            () => http.GetFromJsonAsync<JsonObject>("/api/v1/schedules/every-second"),
            schedule => (long)schedule!["skipped"]! >= 3,
            "the schedule to skip firings at the quota",
            TimeSpan.FromSeconds(60));
        await http.PostAsync("/api/v1/schedules/every-second/pause", null);
        var counts = (await http.GetFromJsonAsync<JsonObject>("/stats"))!["store"]!["status_counts"]!;
        var direct = await http.PostAsJsonAsync("/api/v1/runs", new { prompt = "x", recipe_name = "echo" });

        Assert.Equal(2, (long)skipping!["runs"]!);
        Assert.Equal("Too many live jobs: a tenant may have 2 queued or running jobs (Api:MaxLiveJobsPerTenant)", (string?)skipping["last_error"]);
        Assert.Equal(2, (int)counts["queued"]! + (int)counts["running"]!);
        Assert.Equal(HttpStatusCode.TooManyRequests, direct.StatusCode); // the same quota, the same count
        await app.StopAsync();
    }
}
