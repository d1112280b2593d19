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

    /// <summary>Polls a job's status until its webhook is delivered or given up; returns that status body.</summary>
    public static Task<JsonObject> UntilWebhookSettledAsync(this HttpClient http, string jobId) =>
        http.UntilWebhookAsync(jobId, webhook => !(bool)webhook["pending"]!, "to be delivered or given up");

    /// <summary>Polls a job's status until a delivery round of its webhook has failed; returns that status body.</summary>
    public static Task<JsonObject> UntilWebhookRoundFailedAsync(this HttpClient http, string jobId) =>
        http.UntilWebhookAsync(jobId, webhook => webhook["error"] is not null, "to fail a delivery round");

    private static Task<JsonObject> UntilWebhookAsync(this HttpClient http, string jobId, Func<JsonObject, bool> done, string what) =>
        Eventually.Until(
            async () => (await http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{jobId}"))!,
            status => status["webhook"] is JsonObject webhook && done(webhook),
            $"the webhook of {jobId} {what}",
            TimeSpan.FromSeconds(30));

    /// <summary>Polls a job's status until it is <paramref name="status"/>; returns that status body.</summary>
    public static Task<JsonObject> UntilStatusAsync(this HttpClient http, string jobId, string status) =>
        Eventually.Until(
            async () => (await http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{jobId}"))!,
            body => (string?)body["status"] == status,
            $"{jobId} to be {status}");
}
