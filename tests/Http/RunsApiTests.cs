using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Praison.Orleans.Tests.Http;

/// <summary>The API (README: API) through the real gateway pipeline on Kestrel, against the 3-silo cluster.</summary>
[Collection(JobsClusterCollection.Name)]
public sealed class RunsApiTests(JobsClusterFixture fixture)
{
    private HttpClient Http => fixture.Http;

    [Fact]
    public async Task Submit_Returns202WithLocationRetryAfterAndUrls()
    {
        var response = await Http.PostAsJsonAsync("/api/v1/runs", new { prompt = "hi", recipe_name = "echo" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await Json(response);
        var jobId = (string)body["job_id"]!;
        Assert.Matches("^run_[0-9a-f]{12}$", jobId);
        Assert.Equal("queued", (string)body["status"]!);
        var pollUrl = new Uri(Http.BaseAddress!, $"/api/v1/runs/{jobId}").ToString();
        Assert.Equal(pollUrl, (string)body["poll_url"]!);
        Assert.Equal(pollUrl + "/stream", (string)body["stream_url"]!);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", (string)body["created_at"]!);
        Assert.Equal(pollUrl, response.Headers.Location!.ToString());
        Assert.Equal(TimeSpan.FromSeconds(2), response.Headers.RetryAfter!.Delta);
    }

    [Fact]
    public async Task EchoJob_StatusAndResult_CarryEverySpecField()
    {
        var jobId = await Http.SubmitJobAsync(new { prompt = "round trip", recipe_name = "echo", session_id = "s-1" });

        var status = await Http.UntilStatusAsync(jobId, "succeeded");

        foreach (var field in new[] { "job_id", "status", "progress", "created_at", "started_at", "completed_at",
                     "agent_id", "run_id", "session_id", "error", "retry_after", "attempt" })
        {
            Assert.True(status.ContainsKey(field), $"status body lacks {field}");
        }

        Assert.Equal("s-1", (string)status["session_id"]!);
        Assert.Equal("recipe:echo", (string)status["agent_id"]!);
        Assert.Null(status["retry_after"]);
        Assert.Equal(1, (int)status["attempt"]!);
        var progress = status["progress"]!.AsObject();
        Assert.Equal(100, (double)progress["percentage"]!);
        Assert.True(progress.ContainsKey("current_step") && progress.ContainsKey("steps_total"));

        var result = await Json(await Http.GetAsync($"/api/v1/runs/{jobId}/result"));
        Assert.Equal("round trip", (string)result["result"]!);
        Assert.Equal("succeeded", (string)result["status"]!);
        Assert.True(result.ContainsKey("result_url") && result["result_url"] is null);
        Assert.True(result.ContainsKey("metrics") && result["metrics"] is null, "metrics is null for a job that reports none, as PraisonAI");
        Assert.True((double)result["duration_seconds"]! >= 0);
        Assert.Null(result["error"]);
    }

    [Fact]
    public async Task RetryAfter_Is5WhileRunning()
    {
        var jobId = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "probe", recipe_config = new { scope = ProbeLedger.NewScope() } });

        var status = await Http.UntilStatusAsync(jobId, "running");

        Assert.Equal(5, (int)status["retry_after"]!);
        await Http.PostAsync($"/api/v1/runs/{jobId}/cancel", null);
    }

    [Fact]
    public async Task Result_WhileRunning_Is409WithSpecDetail()
    {
        var jobId = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "probe", recipe_config = new { scope = ProbeLedger.NewScope() } });
        await Http.UntilStatusAsync(jobId, "running");

        var response = await Http.GetAsync($"/api/v1/runs/{jobId}/result");

        await AssertProblem(response, HttpStatusCode.Conflict, "Job is not complete. Current status: running");
        await Http.PostAsync($"/api/v1/runs/{jobId}/cancel", null);
    }

    [Fact]
    public async Task Cancel_RunningJob_Returns200WithCancelledAt_ThenAgain400()
    {
        var jobId = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "probe", recipe_config = new { scope = ProbeLedger.NewScope() } });
        await Http.UntilStatusAsync(jobId, "running");

        var response = await Http.PostAsync($"/api/v1/runs/{jobId}/cancel", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await Json(response);
        Assert.Equal(jobId, (string)body["job_id"]!);
        Assert.Equal("cancelled", (string)body["status"]!);
        Assert.Equal((string)body["cancelled_at"]!, (string)body["completed_at"]!);
        Assert.Null(body["retry_after"]);
        var again = await Http.PostAsync($"/api/v1/runs/{jobId}/cancel", null);
        await AssertProblem(again, HttpStatusCode.BadRequest, "Job already completed (status: cancelled)");
        var status = await Json(await Http.GetAsync($"/api/v1/runs/{jobId}"));
        Assert.Equal("cancelled", (string)status["status"]!);
    }

    [Fact]
    public async Task Cancel_SucceededJob_Is400AndJobStaysSucceeded()
    {
        var jobId = await Http.SubmitJobAsync(new { prompt = "x", recipe_name = "echo" });
        await Http.UntilStatusAsync(jobId, "succeeded");

        var response = await Http.PostAsync($"/api/v1/runs/{jobId}/cancel", null);

        await AssertProblem(response, HttpStatusCode.BadRequest, "Job already completed (status: succeeded)");
        Assert.Equal("succeeded", (string)(await Json(await Http.GetAsync($"/api/v1/runs/{jobId}")))["status"]!);
    }

    [Fact]
    public async Task Delete_TerminalJob_204ThenGone_RunningJob_409()
    {
        var running = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "probe", recipe_config = new { scope = ProbeLedger.NewScope() } });
        var done = await Http.SubmitJobAsync(new { prompt = "x", recipe_name = "echo" });
        await Http.UntilStatusAsync(done, "succeeded");

        var refused = await Http.DeleteAsync($"/api/v1/runs/{running}");
        var deleted = await Http.DeleteAsync($"/api/v1/runs/{done}");

        await AssertProblem(refused, HttpStatusCode.Conflict, "Cannot delete a running job. Cancel it first.");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Empty(await deleted.Content.ReadAsByteArrayAsync());
        await AssertProblem(await Http.GetAsync($"/api/v1/runs/{done}"), HttpStatusCode.NotFound, $"Job not found: {done}");
        await AssertProblem(await Http.DeleteAsync($"/api/v1/runs/{done}"), HttpStatusCode.NotFound, $"Job not found: {done}");
        Assert.Contains(await StatusOf(running), new[] { "queued", "running" });
        await Http.PostAsync($"/api/v1/runs/{running}/cancel", null);
    }

    [Theory]
    [InlineData("GET", "/api/v1/runs/{0}")]
    [InlineData("GET", "/api/v1/runs/{0}/result")]
    [InlineData("POST", "/api/v1/runs/{0}/cancel")]
    [InlineData("DELETE", "/api/v1/runs/{0}")]
    public async Task UnknownOrMalformedId_Is404WithSpecDetail(string method, string template)
    {
        foreach (var id in new[] { "run_0123456789ab", "not-a-run-id", "run_ABCDEF012345", new string('x', 2000) })
        {
            var response = await Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), string.Format(template, id)));
            await AssertProblem(response, HttpStatusCode.NotFound, $"Job not found: {id}");
        }
    }

    public static TheoryData<string, string> InvalidBodies => new()
    {
        { """{}""", "prompt" },
        { """{"prompt": 5}""", "prompt" },
        { """{"prompt": null}""", "prompt" },
        { """{"prompt": "x", "timeout": -1}""", "timeout" },
        { """{"prompt": "x", "timeout": 1.5}""", "timeout" },
        { """{"prompt": "x", "timeout": "60"}""", "timeout" },
        { """{"prompt": "x", "max_attempts": 0}""", "max_attempts" },
        { """{"prompt": "x", "max_attempts": 11}""", "max_attempts" },
        { """{"prompt": "x", "recipe_config": [1]}""", "recipe_config" },
        { """{"prompt": "x", "config": "no"}""", "config" },
        { """{"prompt": "x", "session_id": 7}""", "session_id" },
        { $$"""{"prompt": "x", "session_id": "{{new string('s', 257)}}"}""", "session_id" },
        { $$"""{"prompt": "x", "idempotency_key": "{{new string('k', 257)}}"}""", "idempotency_key" },
        { """{"prompt": "x", "idempotency_key": "a\u0000b"}""", "idempotency_key" },
        { """{"prompt": "x", "session_id": "line\nbreak"}""", "session_id" },
        { """{"prompt": "x", "recipe_name": "nope"}""", "recipe_name" },
        { """{"prompt": "x", "recipe_name": "wait", "recipe_config": {"steps": 0}}""", "recipe_config" },
        { """{"prompt": "x", "agent_yaml": "roles: [unclosed"}""", "agent_yaml" },
        { """{"prompt": "x", "agent_yaml": 3}""", "agent_yaml" },
        { """[1, 2]""", "body" },
        { """ "just a string" """, "body" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Submit_InvalidBody_Is422NamingTheField(string body, string field)
    {
        var response = await PostRaw(body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = await Json(response);
        Assert.Equal(422, (int)problem["status"]!);
        Assert.Contains(field, (string)problem["detail"]!);
        Assert.True(problem["errors"]!.AsObject().ContainsKey(field), $"errors lacks {field}: {problem}");
    }

    [Theory]
    [InlineData("{\"prompt\": ")]
    [InlineData("{bad json}")]
    [InlineData("")]
    [InlineData("prompt=hello")]
    public async Task Submit_MalformedJson_Is400(string body)
    {
        var response = await PostRaw(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await Json(response);
        Assert.StartsWith("Malformed JSON body", (string)problem["detail"]!);
    }

    [Fact]
    public async Task Submit_AgentFileMissingFromTheWorkingDirectory_Is202AndTheJobFailsSayingSo()
    {
        // No root configured: PraisonAI's default, the silo's working directory, which has no such file.
        var response = await PostRaw("""{"prompt": "x", "agent_file": "no-such-agents.yaml"}""");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var jobId = (string)(await Json(response))["job_id"]!;
        var failed = await Http.UntilStatusAsync(jobId, "failed");
        Assert.Equal("agent_file not found: no-such-agents.yaml", (string)failed["error"]!);
    }

    [Fact]
    public async Task Submit_AsABareCurlDashD_IsReadAsJson()
    {
        // curl -d sends application/x-www-form-urlencoded; the body is read as JSON whatever the type.
        var response = await Http.PostAsync("/api/v1/runs",
            new StringContent("""{"prompt": "curl", "recipe_name": "echo"}""", Encoding.UTF8, "application/x-www-form-urlencoded"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    public async Task Submit_AgentFileThatIsNoPath_Is400()
    {
        // Found by the fuzz test: a NUL character made path resolution throw, a 500.
        var response = await PostRaw("""{"prompt": "x", "agent_file": "a\u0000b"}""");

        await AssertProblem(response, HttpStatusCode.BadRequest, "agent_file is not a valid path");
    }

    [Fact]
    public async Task Submit_AgentFileOutsideTheWorkingDirectory_Is400NamingIt()
    {
        var response = await PostRaw("""{"prompt": "x", "agent_file": "/etc/passwd"}""");

        await AssertProblem(response, HttpStatusCode.BadRequest,
            $"agent_file must be within the silo's working directory ({Directory.GetCurrentDirectory()})");
    }

    [Fact]
    public async Task Submit_OversizedBody_Is413()
    {
        foreach (var expectContinue in new[] { true, false })
        {
            var body = JsonSerializer.Serialize(new { prompt = new string('a', 1024 * 1024 + 10) });
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/runs")
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            };
            request.Headers.ExpectContinue = expectContinue; // a careful client: refused before the body is on the wire

            var response = await Http.SendAsync(request);

            await AssertProblem(response, HttpStatusCode.RequestEntityTooLarge, "Request body too large: the limit is 1048576 bytes (Api:MaxRequestBodyBytes).");
        }
    }

    [Theory]
    [InlineData(3 * 1024 * 1024 + 17)]
    [InlineData(8 * 1024 * 1024)]
    public async Task Submit_OversizedBody_WrittenWholeBeforeReading_GetsThe413(int size)
    {
        // As httpx (PraisonAI's client) sends: the whole body first, then it reads. A server that answers
        // and closes at the limit leaves such a client a broken pipe, never the 413 (here, where loopback
        // buffers take a few MiB, the 8 MiB body met it; up to 8 times the limit is now read and discarded).
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(Http.BaseAddress!.Host, Http.BaseAddress.Port);
        var stream = tcp.GetStream();
        var head = $"POST /api/v1/runs HTTP/1.1\r\nHost: {Http.BaseAddress.Authority}\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        var chunk = Encoding.ASCII.GetBytes(new string(' ', 64 * 1024));
        for (var sent = 0; sent < size; sent += chunk.Length)
        {
            await stream.WriteAsync(chunk.AsMemory(0, Math.Min(chunk.Length, size - sent)));
        }

        using var reader = new StreamReader(stream, Encoding.UTF8);
        var statusLine = await reader.ReadLineAsync();
        var answer = await ReadRestOfAnswerAsync(reader);

        Assert.Equal("HTTP/1.1 413 Payload Too Large", statusLine);
        Assert.Contains("application/problem+json", answer, StringComparison.Ordinal);
        Assert.Contains("Request body too large: the limit is 1048576 bytes (Api:MaxRequestBodyBytes).", answer, StringComparison.Ordinal);
    }

    /// <summary>The headers and the body (by Content-Length, or chunked) that follow a status line.</summary>
    private static async Task<string> ReadRestOfAnswerAsync(StreamReader reader)
    {
        var text = new StringBuilder();
        int? length = null;
        while (await reader.ReadLineAsync() is { Length: > 0 } header)
        {
            text.AppendLine(header);
            if (header.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                length = int.Parse(header["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        if (length is { } whole)
        {
            return text.Append(await ReadCharsAsync(reader, whole)).ToString();
        }

        while (int.Parse((await reader.ReadLineAsync())!, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture) is var chunk and > 0)
        {
            text.Append(await ReadCharsAsync(reader, chunk));
            await reader.ReadLineAsync(); // the chunk's CRLF
        }

        return text.ToString();
    }

    private static async Task<string> ReadCharsAsync(StreamReader reader, int count)
    {
        var chars = new char[count]; // ASCII answers: characters are bytes
        for (var read = 0; read < count;)
        {
            var n = await reader.ReadAsync(chars.AsMemory(read));
            Assert.True(n > 0, "the answer's body ended early");
            read += n;
        }

        return new string(chars);
    }

    [Fact]
    public async Task Submit_WithoutContentType_IsStillReadAsJson()
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes("""{"prompt":"bare curl","recipe_name":"echo"}"""));

        var response = await Http.PostAsync("/api/v1/runs", content);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    public async Task Submit_UnknownFieldsAreIgnored_NullsMeanDefaults()
    {
        var jobId = await Http.SubmitJobAsync(new
        {
            prompt = "x", recipe_name = "echo", recipe_config = (object?)null, config = (object?)null,
            timeout = (int?)null, framework = (string?)null, surprise = new { nested = true },
        });

        Assert.Equal("succeeded", (string)(await Http.UntilStatusAsync(jobId, "succeeded"))["status"]!);
    }

    [Fact]
    public async Task Health_IsPublicAndCountsEverySilo()
    {
        var response = await Http.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await Json(response);
        Assert.Equal("healthy", (string)body["status"]!);
        Assert.Equal("memory", (string)body["store"]!);
        Assert.Equal(JobsClusterFixture.Silos, (int)body["cluster"]!["silos"]!);
        var executor = body["executor_stats"]!;
        Assert.Equal(JobsClusterFixture.Silos * JobsClusterFixture.SlotsPerSilo, (int)executor["max_concurrent"]!);
        Assert.Equal(3600, (int)executor["default_timeout"]!);
        Assert.False((bool)executor["shutdown"]!);
        Assert.True((int)executor["running_jobs"]! >= 0);
    }

    [Fact]
    public async Task Health_RunningJobs_CountsJobsHoldingSlots()
    {
        var scope = ProbeLedger.NewScope();
        var jobId = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "probe", recipe_config = new { scope } });
        await Http.UntilStatusAsync(jobId, "running");

        var running = (int)(await Json(await Http.GetAsync("/health")))["executor_stats"]!["running_jobs"]!;

        Assert.True(running >= 1, $"running_jobs was {running}");
        await Http.PostAsync($"/api/v1/runs/{jobId}/cancel", null);
        await Eventually.Until(
            async () => (int)(await Json(await Http.GetAsync("/health")))["executor_stats"]!["running_jobs"]!,
            n => n == 0,
            "the slot to be released");
    }

    [Fact]
    public async Task UnknownRoute_IsProblem404()
    {
        var response = await Http.GetAsync("/api/v1/nothing-here");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }


    private async Task<string> StatusOf(string jobId) =>
        (string)(await Json(await Http.GetAsync($"/api/v1/runs/{jobId}")))["status"]!;


    private Task<HttpResponseMessage> PostRaw(string body) =>
        Http.PostAsync("/api/v1/runs", new StringContent(body, Encoding.UTF8, "application/json"));

    private static async Task<JsonObject> Json(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    private static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status, string detail)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = await Json(response);
        Assert.Equal((int)status, (int)problem["status"]!);
        Assert.Equal(detail, (string)problem["detail"]!);
    }
}
