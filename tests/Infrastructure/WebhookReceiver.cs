using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Praison.Orleans.Tests.Infrastructure;

/// <summary>
/// A webhook receiver on Kestrel at a loopback port. <c>POST /hook/{name}</c> records every request;
/// <c>?fail=N</c> answers the first N requests to that name with 500, or <c>status</c>, with a
/// <c>Retry-After</c> of <c>retryAfter</c> seconds when given.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, List<Delivery>> _deliveries = new();
    private LoopbackServer _server = null!;

    public string BaseUrl => _server.BaseUrl;

    public sealed record Delivery(string Body, string? Signature, int AnsweredWith, DateTimeOffset ReceivedAt);

    public static async Task<WebhookReceiver> StartAsync()
    {
        var receiver = new WebhookReceiver();
        receiver._server = await LoopbackServer.StartAsync(app => app.MapPost("/hook/{name}", receiver.ReceiveAsync));
        return receiver;
    }

    public string UrlFor(string name, int fail = 0, int status = 500, int? retryAfter = null) =>
        $"{BaseUrl}/hook/{name}?fail={fail}&status={status}" + (retryAfter is { } seconds ? $"&retryAfter={seconds}" : "");

    public IReadOnlyList<Delivery> DeliveriesTo(string name)
    {
        var list = _deliveries.GetOrAdd(name, _ => []);
        lock (list)
        {
            return list.ToList();
        }
    }

    private async Task<IResult> ReceiveAsync(string name, int? fail, int? status, int? retryAfter, HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync();
        var list = _deliveries.GetOrAdd(name, _ => []);
        lock (list)
        {
            var answer = list.Count < (fail ?? 0) ? status ?? 500 : 200;
            list.Add(new Delivery(body, context.Request.Headers["X-Praison-Signature"].FirstOrDefault(), answer, DateTimeOffset.UtcNow));
            if (answer != 200 && retryAfter is { } seconds)
            {
                context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            return Results.StatusCode(answer);
        }
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
