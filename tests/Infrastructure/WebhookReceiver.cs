using Microsoft.AspNetCore.Hosting;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Praison.Orleans.Tests.Infrastructure;

/// <summary>
/// A webhook receiver on Kestrel at a loopback port. <c>POST /hook/{name}</c> records every request;
/// <c>?fail=N</c> answers the first N requests to that name with 500.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, List<Delivery>> _deliveries = new();

    private WebhookReceiver(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    public sealed record Delivery(string Body, string? Signature, int AnsweredWith);

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var receiver = new WebhookReceiver(builder.Build());
        receiver._app.MapPost("/hook/{name}", receiver.ReceiveAsync);
        await receiver._app.StartAsync();
        receiver.BaseUrl = receiver._app.Services.GetRequiredService<IServer>().Features
            .Get<IServerAddressesFeature>()!.Addresses.Single();
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

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
