using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Praison.Orleans.Tests.Http;

/// <summary>
/// The seed brief's example client (../shared/spec/seed-cancel-run.txt), step for step: submit, poll
/// sleeping <c>retry_after</c> between polls, cancel once its own timeout passes, fetch the result on
/// success. Its sleeps are the client's poll interval, scaled down (1 s → 50 ms) to keep the test short.
/// </summary>
[Collection(JobsClusterCollection.Name)]
public sealed class SeedClientTests(JobsClusterFixture fixture)
{
    private static readonly TimeSpan SecondOfClientTime = TimeSpan.FromMilliseconds(50);

    [Fact]
    public async Task SeedClient_JobFinishesInTime_GetsTheResult()
    {
        var result = await SubmitWithClientTimeout(
            new { prompt = "Complex analysis task", recipe_name = "wait", recipe_config = new { seconds = 0.5, steps = 5 } },
            timeout: TimeSpan.FromSeconds(30));

        Assert.Equal("succeeded", (string)result["status"]!);
        Assert.Equal("waited 0.5s", (string)result["result"]!);
    }

    [Fact]
    public async Task SeedClient_ClientTimeout_CancelsTheJob()
    {
        var error = await Assert.ThrowsAsync<TimeoutException>(() => SubmitWithClientTimeout(
            new { prompt = "Complex analysis task", recipe_name = "wait", recipe_config = new { seconds = 60 } },
            timeout: TimeSpan.FromSeconds(1)));

        var jobId = error.Message.Split(' ')[1];
        var status = await fixture.Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{jobId}");
        Assert.Equal("cancelled", (string)status!["status"]!);
    }

    private async Task<JsonObject> SubmitWithClientTimeout(object body, TimeSpan timeout)
    {
        var http = fixture.Http;
        var response = await http.PostAsJsonAsync("/api/v1/runs", body);
        var jobId = (string)(await response.Content.ReadFromJsonAsync<JsonObject>())!["job_id"]!;
        var start = DateTime.UtcNow;
        while (true)
        {
            if (DateTime.UtcNow - start > timeout)
            {
                var cancel = await http.PostAsync($"/api/v1/runs/{jobId}/cancel", null);
                cancel.EnsureSuccessStatusCode();
                throw new TimeoutException($"Job {jobId} cancelled after {timeout.TotalSeconds}s");
            }

            var status = (await http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{jobId}"))!;
            switch ((string)status["status"]!)
            {
                case "succeeded":
                    return (await http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{jobId}/result"))!;
                case "failed" or "cancelled":
                    throw new InvalidOperationException($"Job {status["status"]}");
            }

            await Task.Delay(SecondOfClientTime * ((int?)status["retry_after"] ?? 2));
        }
    }
}
