using System.Net.ServerSentEvents;

namespace Praison.Orleans.Tests.Infrastructure;

/// <summary>Reads a run's event stream with the BCL's SSE parser, as any SSE client would.</summary>
public static class SseClient
{
    public static async IAsyncEnumerable<SseItem<string>> StreamAsync(
        this HttpClient http, string jobId, string? lastEventId = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/runs/{jobId}/stream");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        await foreach (var item in SseParser.Create(body).EnumerateAsync(cancellationToken))
        {
            yield return item;
        }
    }

    /// <summary>Every event until the server closes the stream (bounded by <paramref name="timeout"/>).</summary>
    public static async Task<List<SseItem<string>>> ReadAllAsync(
        this HttpClient http, string jobId, string? lastEventId = null, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        var items = new List<SseItem<string>>();
        await foreach (var item in http.StreamAsync(jobId, lastEventId, cts.Token))
        {
            items.Add(item);
        }

        return items;
    }

    /// <summary>
    /// What a finished job's record keeps of a stream (<c>JobEvents.End</c>): its status changes, the
    /// final event, and of each run of progress events the last; heartbeats left out.
    /// </summary>
    public static List<SseItem<string>> Coalesced(this IEnumerable<SseItem<string>> items)
    {
        var events = items.Where(i => i.EventType != "heartbeat").ToList();
        return events.Where((e, i) => e.EventType != "progress" || i + 1 == events.Count || events[i + 1].EventType != "progress").ToList();
    }

    /// <summary>The events as "id|type|data" lines, heartbeats left out (they carry no id and a changing time).</summary>
    public static List<string> Describe(this IEnumerable<SseItem<string>> items) =>
        items.Where(i => i.EventType != "heartbeat").Select(i => $"{i.EventId}|{i.EventType}|{i.Data}").ToList();
}
