using Microsoft.Extensions.DependencyInjection;
using Praison.Orleans.Client;

namespace Praison.Orleans.Tests.Client;

/// <summary>What the client tests share: the client as an application registers it, and bounds on every wait.</summary>
internal static class ClientTesting
{
    public static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    public static ServiceProvider Services(Uri baseAddress, Action<IHttpClientBuilder>? http = null, string? apiKey = null, int maxRetries = 5)
    {
        var services = new ServiceCollection();
        var builder = services.AddPraisonJobsClient(o => (o.BaseAddress, o.ApiKey, o.MaxRetries) = (baseAddress, apiKey, maxRetries));
        http?.Invoke(builder);
        return services.BuildServiceProvider();
    }

    public static CancellationToken Timeout() => new CancellationTokenSource(Bound).Token;

    public static async Task<List<T>> ReadAllAsync<T>(IAsyncEnumerable<T> items)
    {
        var all = new List<T>();
        await foreach (var item in items)
        {
            all.Add(item);
        }

        return all;
    }
}

/// <summary>
/// Cuts the body of the first stream responses after <paramref name="dropAfterEvents"/> events (an
/// IOException mid-read, as a closed connection gives), and records each stream request's <c>Last-Event-ID</c>.
/// </summary>
internal sealed class DroppingHandler(int dropAfterEvents) : DelegatingHandler
{
    public int Dropped;

    public List<string?> LastEventIds { get; } = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (!request.RequestUri!.AbsolutePath.EndsWith("/stream", StringComparison.Ordinal))
        {
            return response;
        }

        lock (LastEventIds)
        {
            LastEventIds.Add(request.Headers.TryGetValues("Last-Event-ID", out var values) ? values.Single() : null);
        }

        if (Interlocked.Increment(ref Dropped) > 2)
        {
            Interlocked.Decrement(ref Dropped);
            return response; // the third connection on is left whole
        }

        var cut = new CuttingStream(await response.Content.ReadAsStreamAsync(cancellationToken), dropAfterEvents);
        var content = new StreamContent(cut);
        foreach (var header in response.Content.Headers)
        {
            content.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        response.Content = content;
        return response;
    }
}

/// <summary>A stream that throws an IOException once it has passed on <c>events</c> SSE events (blank-line ends).</summary>
internal sealed class CuttingStream(Stream inner, int events) : Stream
{
    private int _ends;
    private byte _previous;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_ends >= events)
        {
            throw new IOException("The connection was closed mid-stream (injected).");
        }

        var read = await inner.ReadAsync(buffer[..1], cancellationToken); // a byte at a time: cut exactly after an event
        if (read == 1)
        {
            if (buffer.Span[0] == (byte)'\n' && _previous == (byte)'\n')
            {
                _ends++;
            }

            _previous = buffer.Span[0];
        }

        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
