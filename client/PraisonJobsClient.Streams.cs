using System.Globalization;
using System.Net;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Praison.Orleans.Client;

public sealed partial class PraisonJobsClient
{
    private const int MaxReconnectsWithoutProgress = 10;

    /// <summary>
    /// A server-sent event stream to follow: where it is, how an item reads (null: skip it), which event
    /// is its last, and which id an event has (<see cref="IdOf"/> null: its events have none, each says
    /// all there is, and a stream reopened starts afresh).
    /// </summary>
    private sealed record EventStream<T>(string Path, Func<SseItem<string>, T?> Read, Func<T, bool> IsFinal, Func<T, long?>? IdOf = null)
        where T : class;

    /// <summary>
    /// The events of <paramref name="stream"/> until its final one. A dropped connection (or one silent
    /// past <see cref="SilentStream"/>) is opened again after the last event's id, so none is lost or
    /// repeated; it gives up after <see cref="MaxReconnectsWithoutProgress"/> reconnects in a row without an event.
    /// </summary>
    private async IAsyncEnumerable<T> FollowAsync<T>(EventStream<T> stream, long? afterEventId, [EnumeratorCancellation] CancellationToken cancellationToken)
        where T : class
    {
        var last = afterEventId;
        for (int connection = 0, idle = 0; ; connection++, idle++)
        {
            var events = Channel.CreateUnbounded<T>(new() { SingleReader = true, SingleWriter = true });
            var reading = ReadStreamAsync(stream, last, reconnect: connection > 0, events.Writer, cancellationToken);
            await foreach (var e in events.Reader.ReadAllAsync(cancellationToken))
            {
                if (stream.IdOf is null)
                {
                    idle = 0;
                }
                else if (stream.IdOf(e) is { } id)
                {
                    (last, idle) = (id, 0);
                }

                yield return e;
                if (stream.IsFinal(e))
                {
                    yield break;
                }
            }

            if (!await reading) // gone (deleted): nothing more will come
            {
                yield break;
            }

            if (idle >= MaxReconnectsWithoutProgress)
            {
                throw new PraisonJobsException($"The stream {stream.Path} broke {idle} times without an event; giving up.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200 * (idle + 1)), cancellationToken);
        }
    }

    /// <summary>
    /// One connection of a stream: its events into <paramref name="events"/>; true when it ended without
    /// the final event (dropped, closed by the server, or silent too long: open it again), false when the
    /// server closed it after the final event or what it follows is gone (a 404 on a <paramref name="reconnect"/>).
    /// </summary>
    private async Task<bool> ReadStreamAsync<T>(EventStream<T> stream, long? after, bool reconnect, ChannelWriter<T> events, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, stream.Path);
            if (after is { } id)
            {
                request.Headers.Add("Last-Event-ID", id.ToString(CultureInfo.InvariantCulture));
            }

            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (reconnect && response.StatusCode == HttpStatusCode.NotFound)
            {
                return false;
            }

            await EnsureSuccessAsync(response, cancellationToken);
            using var silence = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            silence.CancelAfter(SilentStream);
            await using var body = await response.Content.ReadAsStreamAsync(silence.Token);
            await foreach (var item in SseParser.Create(body).EnumerateAsync(silence.Token))
            {
                silence.CancelAfter(SilentStream);
                if (stream.Read(item) is not { } e)
                {
                    continue;
                }

                await events.WriteAsync(e, cancellationToken);
                if (stream.IsFinal(e))
                {
                    return false;
                }
            }

            return true;
        }
        catch (Exception exception) when (exception is IOException or HttpRequestException or OperationCanceledException
            or PraisonJobsException { Status: HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests } && !cancellationToken.IsCancellationRequested)
        {
            return true; // dropped, silent, or refused for now (past the retries): the caller opens it again after the last event
        }
        catch (Exception exception)
        {
            events.TryComplete(exception);
            throw;
        }
        finally
        {
            events.TryComplete();
        }
    }

    /// <summary>
    /// Follows <paramref name="stream"/> to its final event, then reads what it followed until
    /// <paramref name="pollAgainIn"/> says it has ended (null); should the stream fail, that read is polled.
    /// </summary>
    private static async Task<TState> UntilFinishedAsync<TEvent, TState>(
        IAsyncEnumerable<TEvent> stream, Func<TEvent, bool> isFinal, Func<Task<TState>> read, Func<TState, TimeSpan?> pollAgainIn,
        CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var e in stream.WithCancellation(cancellationToken))
            {
                if (isFinal(e))
                {
                    break;
                }
            }
        }
        catch (PraisonJobsException exception) when (exception.Status != HttpStatusCode.NotFound)
        {
            // The stream gave up: poll instead.
        }

        while (true)
        {
            var state = await read();
            if (pollAgainIn(state) is not { } wait)
            {
                return state;
            }

            await Task.Delay(wait, cancellationToken);
        }
    }
}
