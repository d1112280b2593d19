namespace Praison.Orleans.Grains.Postgres;

/// <summary>How a silo uses PostgreSQL in <c>Cluster:Storage=Postgres</c>. Section <c>Postgres</c>.</summary>
public sealed class PostgresOptions
{
    public const string Section = "Postgres";

    /// <summary>
    /// Connections committing grain writes at once (<see cref="PostgresCommits"/>); each sends what is
    /// waiting as one batch and one commit. Default: 4.
    /// </summary>
    public int CommitConnections { get; set; } = 4;

    /// <summary>
    /// Connections reading grain state at once (<see cref="PostgresReads"/>); each reads what is waiting
    /// in one round trip. Default: 4.
    /// </summary>
    public int ReadConnections { get; set; } = 4;

    /// <summary>The most writes one commit carries, and the most reads one round trip does. Default: 256.</summary>
    public int MaxBatch { get; set; } = 256;

    /// <summary>
    /// The most jobs one sweep reads from the due index (live ones first, then by due time); the rest
    /// wait for the next sweep, so a mass expiry is removed in bounded batches. Default: 10,000.
    /// </summary>
    public int MaxDuePerSweep { get; set; } = 10_000;

    /// <summary>The problems with these options, empty when they are valid.</summary>
    public IEnumerable<string> Problems()
    {
        if (CommitConnections is < 1 or > 64)
        {
            yield return "Postgres:CommitConnections must be 1–64.";
        }

        if (ReadConnections is < 1 or > 64)
        {
            yield return "Postgres:ReadConnections must be 1–64.";
        }

        if (MaxBatch is < 1 or > 10_000)
        {
            yield return "Postgres:MaxBatch must be 1–10,000.";
        }

        if (MaxDuePerSweep < 1)
        {
            yield return "Postgres:MaxDuePerSweep must be positive.";
        }
    }
}
