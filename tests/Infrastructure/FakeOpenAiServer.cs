using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Praison.Orleans.Tests.Infrastructure;

/// <summary>
/// An OpenAI-compatible chat-completions server on a loopback port (the real wire protocol, streaming
/// included), standing in for a remote LLM. It answers by the last user message:
/// <c>status:401</c> refuses the key; <c>status:429-once</c> is rate-limited once (Retry-After: 1);
/// <c>slow</c> streams a chunk every 100 ms for a minute; anything else streams <c>Echo: {message}</c>
/// in three chunks and a usage chunk. It records every request and when a client hung up.
/// </summary>
public sealed class FakeOpenAiServer : IAsyncDisposable
{
    public const int PromptTokens = 11;
    public const int CompletionTokens = 7;

    private readonly ConcurrentDictionary<string, int> _seen = new();
    private LoopbackServer _server = null!;

    /// <summary>The base URL a client is configured with (<c>…/v1</c>).</summary>
    public string BaseUrl => _server.BaseUrl + "/v1";

    public ConcurrentQueue<Received> Requests { get; } = new();

    public sealed record Received(string LastUserMessage, JsonObject Body, DateTimeOffset At)
    {
        public DateTimeOffset? AbortedAt { get; set; }
    }

    public static async Task<FakeOpenAiServer> StartAsync()
    {
        var server = new FakeOpenAiServer();
        server._server = await LoopbackServer.StartAsync(app => app.MapPost("/v1/chat/completions", server.CompleteAsync));
        return server;
    }

    private async Task CompleteAsync(HttpContext context)
    {
        var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        var last = body["messages"]!.AsArray().Last(m => (string?)m!["role"] == "user")!["content"]!.ToString();
        var received = new Received(last, body, DateTimeOffset.UtcNow);
        Requests.Enqueue(received);
        var response = context.Response;
        if (last == "status:401")
        {
            response.StatusCode = 401;
            await response.WriteAsJsonAsync(new { error = new { message = "Incorrect API key provided", type = "invalid_request_error", code = "invalid_api_key" } });
            return;
        }

        if (last == "status:429-once" && _seen.AddOrUpdate(last, 1, (_, n) => n + 1) == 1)
        {
            response.StatusCode = 429;
            response.Headers.RetryAfter = "1";
            await response.WriteAsJsonAsync(new { error = new { message = "Rate limit reached", type = "rate_limit_error" } });
            return;
        }

        response.ContentType = "text/event-stream";
        var model = (string?)body["model"] ?? "test";
        try
        {
            if (last == "slow")
            {
                for (var i = 0; i < 600; i++)
                {
                    await WriteChunkAsync(response, Chunk(model, $"tick {i} "), context.RequestAborted);
                    await Task.Delay(100, context.RequestAborted);
                }
            }
            else
            {
                foreach (var piece in new[] { "Echo: ", last[..(last.Length / 2)], last[(last.Length / 2)..] })
                {
                    await WriteChunkAsync(response, Chunk(model, piece), context.RequestAborted);
                }
            }

            await WriteChunkAsync(response, UsageChunk(model), context.RequestAborted);
            await response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            received.AbortedAt = DateTimeOffset.UtcNow;
        }
    }

    private static async Task WriteChunkAsync(HttpResponse response, object chunk, CancellationToken cancellationToken)
    {
        await response.WriteAsync($"data: {JsonSerializer.Serialize(chunk)}\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    private static object Chunk(string model, string content) => new
    {
        id = "chatcmpl-test", @object = "chat.completion.chunk", created = 1_700_000_000, model,
        choices = new[] { new { index = 0, delta = new { content }, finish_reason = (string?)null } },
    };

    private static object UsageChunk(string model) => new
    {
        id = "chatcmpl-test", @object = "chat.completion.chunk", created = 1_700_000_000, model,
        choices = Array.Empty<object>(),
        usage = new { prompt_tokens = PromptTokens, completion_tokens = CompletionTokens, total_tokens = PromptTokens + CompletionTokens },
    };

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
