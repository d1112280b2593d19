using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Praison.Orleans.Grains.Postgres;

/// <summary>
/// Group commit: the writes of many grains on this silo share a round trip and a commit. A write waits
/// in one queue; each of <see cref="PostgresOptions.CommitConnections"/> committers takes what is
/// waiting (up to <see cref="PostgresOptions.MaxBatch"/>) and sends it as one <see cref="NpgsqlBatch"/>,
/// which PostgreSQL runs as one implicit transaction: one commit, one WAL flush for all of them. While
/// one batch is in flight the next fills, so under load the server sees batches, not jobs; alone, a
/// write goes at once. A write is answered only once its batch has committed (or failed), with the rows
/// it changed; the statements are conditional writes, so a write that changes nothing (a stale
/// revision) changes nothing for the others. When a batch fails every write in it fails, and each
/// writer settles its own write from storage (<see cref="Storage.CommittedState{T}"/>): a dropped
/// connection may have committed.
/// </summary>
public sealed class PostgresCommits : IAsyncDisposable
{
    private readonly NpgsqlDataSource _database;
    private readonly PostgresOptions _options;
    private readonly Channel<Write> _waiting = Channel.CreateUnbounded<Write>(new UnboundedChannelOptions { SingleReader = false });
    private readonly Lazy<Task[]> _committers;
    private long _commits;

    public PostgresCommits(NpgsqlDataSource database, IOptions<PostgresOptions> options)
    {
        (_database, _options) = (database, options.Value);
        _committers = new(() => [.. Enumerable.Range(0, _options.CommitConnections).Select(_ => Task.Run(CommitLoopAsync))]);
    }

    /// <summary>The batches committed so far (each one transaction), for metrics and tests.</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Commits <paramref name="statement"/> with whatever else is waiting; returns the rows it changed.</summary>
    public Task<int> ExecuteAsync(NpgsqlBatchCommand statement)
    {
        _ = _committers.Value;
        var write = new Write(statement);
        return _waiting.Writer.TryWrite(write) ? write.Done.Task : Task.FromException<int>(new ObjectDisposedException(nameof(PostgresCommits)));
    }

    private async Task CommitLoopAsync()
    {
        var batch = new List<Write>(_options.MaxBatch);
        while (await _waiting.Reader.WaitToReadAsync())
        {
            while (batch.Count < _options.MaxBatch && _waiting.Reader.TryRead(out var write))
            {
                batch.Add(write);
            }

            if (batch.Count > 0)
            {
                await CommitAsync(batch);
                batch.Clear();
            }
        }
    }

    private async Task CommitAsync(List<Write> writes)
    {
        try
        {
            await using var connection = await _database.OpenConnectionAsync();
            await using var batch = new NpgsqlBatch(connection);
            foreach (var write in writes)
            {
                batch.BatchCommands.Add(write.Statement);
            }

            await batch.ExecuteNonQueryAsync();
            Interlocked.Increment(ref _commits);
            foreach (var write in writes)
            {
                write.Done.TrySetResult(write.Statement.RecordsAffected);
            }
        }
        catch (Exception failure)
        {
            foreach (var write in writes)
            {
                write.Done.TrySetException(failure);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _waiting.Writer.TryComplete();
        if (_committers.IsValueCreated)
        {
            await Task.WhenAll(_committers.Value);
        }
    }

    private sealed record Write(NpgsqlBatchCommand Statement)
    {
        public TaskCompletionSource<int> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
