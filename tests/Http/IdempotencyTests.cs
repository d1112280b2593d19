using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Praison.Orleans.Tests.Http;

/// <summary>Idempotency (docs/api.md; API keys and tenants): one job per (tenant, key), whatever races.</summary>
[Collection(JobsClusterCollection.Name)]
public sealed class IdempotencyTests(JobsClusterFixture fixture)
{
    [Fact]
    public async Task FiftyConcurrentSubmits_OneKeyTwoGateways_CreateOneJobThatRunsOnce()
    {
        var key = "race-" + Guid.NewGuid().ToString("N");
        var session = "idem-" + Guid.NewGuid().ToString("N");
        var scope = ProbeLedger.NewScope();
        var clients = new[] { fixture.Http, fixture.Http2 };

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/runs")
            {
                Content = JsonContent.Create(new { prompt = $"attempt {i}", recipe_name = "probe", session_id = session, recipe_config = new { scope, seconds = 0.2 } }),
            };
            request.Headers.Add("Idempotency-Key", key);
            return SendAsync(clients[i % 2], request);
        }));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.Status));
        var jobIds = responses.Select(r => (string)r.Body["job_id"]!).Distinct().ToList();
        var jobId = Assert.Single(jobIds);
        await Eventually.Until(
            async () => (string?)(await fixture.Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{jobId}"))!["status"],
            s => s == "succeeded",
            "the one job to finish");
        Assert.Single(ProbeLedger.Runs(scope));
        var listed = (await fixture.Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs?session_id={session}"))!;
        Assert.Equal(1, (int)listed["total"]!);
    }

    [Fact]
    public async Task Repeat_ReturnsTheSameJobWithItsCurrentStatus_WhateverTheNewBodySays()
    {
        var key = "repeat-" + Guid.NewGuid().ToString("N");
        var first = await SubmitAsync(new { prompt = "first", recipe_name = "echo", idempotency_key = key });
        var jobId = (string)first.Body["job_id"]!;
        await Eventually.Until(
            async () => (string?)(await fixture.Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{jobId}"))!["status"],
            s => s == "succeeded",
            "the job to finish");

        var repeat = await SubmitAsync(new { prompt = "second", recipe_name = "wait", idempotency_key = key });

        Assert.Equal(HttpStatusCode.Accepted, repeat.Status);
        Assert.Equal(jobId, (string)repeat.Body["job_id"]!);
        Assert.Equal("succeeded", (string)repeat.Body["status"]!);
        Assert.Equal((string)first.Body["created_at"]!, (string)repeat.Body["created_at"]!);
        var result = (await fixture.Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{jobId}/result"))!;
        Assert.Equal("first", (string)result["result"]!);
    }

    [Fact]
    public async Task Header_WinsOverBodyKey()
    {
        var headerKey = "header-" + Guid.NewGuid().ToString("N");
        var bodyKey = "body-" + Guid.NewGuid().ToString("N");
        var byBody = await SubmitAsync(new { prompt = "x", recipe_name = "echo", idempotency_key = bodyKey });

        var byHeader = await SubmitAsync(new { prompt = "x", recipe_name = "echo", idempotency_key = bodyKey }, headerKey);
        var byHeaderAgain = await SubmitAsync(new { prompt = "x", recipe_name = "echo" }, headerKey);

        Assert.NotEqual((string)byBody.Body["job_id"]!, (string)byHeader.Body["job_id"]!);
        Assert.Equal((string)byHeader.Body["job_id"]!, (string)byHeaderAgain.Body["job_id"]!);
    }

    [Fact]
    public async Task Delete_FreesTheKey()
    {
        var key = "free-" + Guid.NewGuid().ToString("N");
        var first = (string)(await SubmitAsync(new { prompt = "x", recipe_name = "echo" }, key)).Body["job_id"]!;
        await Eventually.Until(
            async () => (await fixture.Http.DeleteAsync($"/api/v1/runs/{first}")).StatusCode,
            s => s == HttpStatusCode.NoContent,
            "the job to finish and be deleted");

        var second = (string)(await SubmitAsync(new { prompt = "x", recipe_name = "echo" }, key)).Body["job_id"]!;

        Assert.NotEqual(first, second);
        Assert.Equal(HttpStatusCode.OK, (await fixture.Http.GetAsync($"/api/v1/runs/{second}")).StatusCode);
    }

    [Fact]
    public async Task RejectedSubmit_LeavesTheKeyFree()
    {
        var key = "rejected-" + Guid.NewGuid().ToString("N");

        var rejected = await SubmitAsync(new { prompt = "x", recipe_name = "no-such-recipe" }, key);
        var accepted = await SubmitAsync(new { prompt = "x", recipe_name = "echo" }, key);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, rejected.Status);
        Assert.Equal(HttpStatusCode.Accepted, accepted.Status);
    }

    [Fact]
    public async Task OverlongKey_Is422()
    {
        var response = await SubmitAsync(new { prompt = "x", recipe_name = "echo" }, new string('k', 257));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.Status);
        Assert.Contains("Idempotency-Key", (string)response.Body["detail"]!);
    }

    private Task<(HttpStatusCode Status, JsonObject Body)> SubmitAsync(object body, string? headerKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/runs") { Content = JsonContent.Create(body) };
        if (headerKey is not null)
        {
            request.Headers.Add("Idempotency-Key", headerKey);
        }

        return SendAsync(fixture.Http, request);
    }

    private static async Task<(HttpStatusCode Status, JsonObject Body)> SendAsync(HttpClient http, HttpRequestMessage request)
    {
        using var sent = request;
        using var response = await http.SendAsync(request);
        return (response.StatusCode, (await response.Content.ReadFromJsonAsync<JsonObject>())!);
    }
}
