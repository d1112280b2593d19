using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Praison.Orleans.Tests.Infrastructure;

/// <summary>
/// A webhook receiver on Kestrel at a loopback port. <c>POST /hook/{name}</c> records every request;
/// <c>?fail=N</c> answers the first N requests to that name with 500.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, List<Delivery>> _deliveries = new();
    private LoopbackServer _server = null!;

    public string BaseUrl => _server.BaseUrl;

    public sealed record Delivery(string Body, string? Signature, int AnsweredWith);

    public static async Task<WebhookReceiver> StartAsync()
    {
        var receiver = new WebhookReceiver();
        receiver._server = await LoopbackServer.StartAsync(app => app.MapPost("/hook/{name}", receiver.ReceiveAsync));
        return receiver;
    }

    public string UrlFor(string name, int fail = 0) => $"{BaseUrl}/hook/{name}" + (fail > 0 ? $"?fail={fail}" : "");

    public IReadOnlyList<Delivery> DeliveriesTo(string name)
    {
        var list = _deliveries.GetOrAdd(name, _ => []);
        lock (list)
        {
            return list.ToList();
        }
    }

    private async Task<IResult> ReceiveAsync(string name, int? fail, HttpRequest request)
    {
        using var reader = new StreamReader(request.Body);
        var body = await reader.ReadToEndAsync();
        var list = _deliveries.GetOrAdd(name, _ => []);
        lock (list)
        {
            var status = list.Count < (fail ?? 0) ? 500 : 200;
            list.Add(new Delivery(body, request.Headers["X-Praison-Signature"].FirstOrDefault(), status));
            return Results.StatusCode(status);
        }
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
