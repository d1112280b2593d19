using Microsoft.Extensions.Options;
using Npgsql;

namespace Praison.Orleans.Grains.Postgres;

/// <summary>
/// Group commit: the writes of many grains on this silo share a round trip and a commit. Each of
/// <see cref="PostgresOptions.CommitConnections"/> committers takes what is waiting (up to
/// <see cref="PostgresOptions.MaxBatch"/>) and sends it as one <see cref="NpgsqlBatch"/>, which
/// PostgreSQL runs as one implicit transaction: one commit, one WAL flush for all of them
/// (<see cref="PostgresRoundTrips{TWork}"/>). A write is answered only once its batch has committed (or
/// failed), with the rows it changed; the statements are conditional writes, so a write that changes
/// nothing (a stale revision) changes nothing for the others. When a batch fails every write in it
/// fails, and each writer settles its own write from storage (<see cref="Storage.CommittedState{T}"/>):
/// a dropped connection may have committed.
/// </summary>
public sealed class PostgresCommits(NpgsqlDataSource database, IOptions<PostgresOptions> options)
    : PostgresRoundTrips<PostgresCommits.Write>(options.Value.CommitConnections, options.Value.MaxBatch)
{
    /// <summary>Commits <paramref name="statement"/> with whatever else is waiting; returns the rows it changed.</summary>
    public Task<int> ExecuteAsync(NpgsqlBatchCommand statement)
    {
        var write = new Write(statement);
        return TryEnqueue(write) ? write.Done.Task : Task.FromException<int>(new ObjectDisposedException(nameof(PostgresCommits)));
    }

    protected override async Task SendAsync(List<Write> items)
    {
        try
        {
            await using var connection = await database.OpenConnectionAsync();
            await using var batch = new NpgsqlBatch(connection);
            foreach (var write in items)
            {
                batch.BatchCommands.Add(write.Statement);
            }

            await batch.ExecuteNonQueryAsync();
            Answered();
            foreach (var write in items)
            {
                write.Done.TrySetResult(write.Statement.RecordsAffected);
            }
        }
        catch (Exception failure)
        {
            foreach (var write in items)
            {
                write.Done.TrySetException(failure);
            }
        }
    }

    public sealed record Write(NpgsqlBatchCommand Statement)
    {
        public TaskCompletionSource<int> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
