using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Praison.Orleans.Tests.Infrastructure;

/// <summary>The HTTP calls tests make again and again.</summary>
public static class HttpJobs
{
    /// <summary>Submits <paramref name="body"/>, asserts 202 and returns the job id.</summary>
    public static async Task<string> SubmitJobAsync(this HttpClient http, object body)
    {
        using var response = await http.PostAsJsonAsync("/api/v1/runs", body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (string)(await response.Content.ReadFromJsonAsync<JsonObject>())!["job_id"]!;
    }

    /// <summary>Polls a job's status until it is <paramref name="status"/>; returns that status body.</summary>
    public static Task<JsonObject> UntilStatusAsync(this HttpClient http, string jobId, string status) =>
        Eventually.Until(
            async () => (await http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{jobId}"))!,
            body => (string?)body["status"] == status,
            $"{jobId} to be {status}");
}
