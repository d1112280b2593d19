using System.Threading.Channels;

namespace Praison.Orleans.Grains.Postgres;

/// <summary>
/// Work many grains of a silo hand in at once, sent to the database in shared round trips: it waits in
/// one queue, and each of a fixed number of loops takes what is waiting (up to a batch) and sends it
/// together. While one batch is in flight the next fills, so under load the server sees batches, not
/// grains; alone, work goes at once. <see cref="SendAsync"/> settles every item of its batch.
/// </summary>
public abstract class PostgresRoundTrips<TWork> : IAsyncDisposable
{
    private readonly Channel<TWork> _waiting = Channel.CreateUnbounded<TWork>();
    private readonly Lazy<Task[]> _loops;
    private readonly int _maxBatch;
    private long _sent;

    protected PostgresRoundTrips(int loops, int maxBatch)
    {
        _maxBatch = maxBatch;
        _loops = new(() => [.. Enumerable.Range(0, loops).Select(_ => Task.Run(LoopAsync))]);
    }

    /// <summary>The batches sent and answered so far (for writes: each one commit), for metrics and tests.</summary>
    public long Batches => Interlocked.Read(ref _sent);

    /// <summary>Counts a batch the database answered; <see cref="SendAsync"/> calls it before settling the batch's items.</summary>
    protected void Answered() => Interlocked.Increment(ref _sent);

    /// <summary>Queues <paramref name="work"/> for the next batch; false once this has been disposed.</summary>
    protected bool TryEnqueue(TWork work)
    {
        _ = _loops.Value;
        return _waiting.Writer.TryWrite(work);
    }

    /// <summary>Sends <paramref name="items"/> in one round trip and settles each item (answers or fails it); never throws.</summary>
    protected abstract Task SendAsync(List<TWork> items);

    private async Task LoopAsync()
    {
        var batch = new List<TWork>(_maxBatch);
        while (await _waiting.Reader.WaitToReadAsync())
        {
            while (batch.Count < _maxBatch && _waiting.Reader.TryRead(out var work))
            {
                batch.Add(work);
            }

            if (batch.Count > 0)
            {
                await SendAsync(batch);
                batch.Clear();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _waiting.Writer.TryComplete();
        if (_loops.IsValueCreated)
        {
            await Task.WhenAll(_loops.Value);
        }

        GC.SuppressFinalize(this);
    }
}
