using System.Net;
using System.Text;
using System.Text.Json;

namespace Praison.Orleans.Tests.Http;

/// <summary>How a submit's body is read (docs/api.md: Submit): refusals naming the field, limits, any content type.</summary>
public sealed partial class RunsApiTests
{
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
        { """{"prompt": "x", "priority": 101}""", "priority" },
        { """{"prompt": "x", "priority": -101}""", "priority" },
        { """{"prompt": "x", "priority": 1.5}""", "priority" },
        { """{"prompt": "x", "priority": "high"}""", "priority" },
        { """{"prompt": "x", "concurrency_key": 7}""", "concurrency_key" },
        { $$"""{"prompt": "x", "concurrency_key": "{{new string('k', 201)}}"}""", "concurrency_key" },
        { """{"prompt": "x", "concurrency_key": "a\u0001b"}""", "concurrency_key" },
        { """{"prompt": "x", "concurrency_key": "k", "concurrency_limit": 0}""", "concurrency_limit" },
        { """{"prompt": "x", "concurrency_key": "k", "concurrency_limit": 10001}""", "concurrency_limit" },
        { """{"prompt": "x", "concurrency_limit": 3}""", "concurrency_limit" },
        { """{"prompt": "x", "singleton_key": "s", "idempotency_key": "i"}""", "singleton_key" },
        { """{"prompt": "x", "singleton_seconds": 60}""", "singleton_seconds" },
        { """{"prompt": "x", "singleton_key": "s", "singleton_seconds": 86401}""", "singleton_seconds" },
        { $$"""{"prompt": "x", "singleton_key": "{{new string('s', 257)}}"}""", "singleton_key" },
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
}
