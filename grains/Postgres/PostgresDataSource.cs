using System.Data.Common;
using Npgsql;

namespace Praison.Orleans.Grains.Postgres;

/// <summary>The store's connections to the database at a connection string, with the settings its statements want.</summary>
public static class PostgresDataSource
{
    /// <summary>
    /// How many statements each connection keeps prepared, unless the connection string says otherwise
    /// (<c>Max Auto Prepare=0</c> turns it off, e.g. behind a pooler that cannot keep them). The store
    /// runs a few dozen statements over and over: prepared, the server parses and plans each once per
    /// connection, not once per transition (measured: about 40% of the server's CPU per job).
    /// </summary>
    public const int MaxAutoPrepare = 64;

    public static NpgsqlDataSource Create(string connectionString)
    {
        // Its sessions keep no state of their own (no SET, no temporary tables), so a connection back from
        // the pool needs no DISCARD ALL: a statement fewer per use, and its prepared statements stay.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { NoResetOnClose = true };
        if (!Names(connectionString, nameof(NpgsqlConnectionStringBuilder.MaxAutoPrepare)))
        {
            builder.MaxAutoPrepare = MaxAutoPrepare;
        }

        return NpgsqlDataSource.Create(builder);
    }

    /// <summary>Whether the connection string itself sets <paramref name="setting"/> (in any of its spellings: spaces and case do not count).</summary>
    private static bool Names(string connectionString, string setting) =>
        new DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>()
            .Any(key => key.Replace(" ", "", StringComparison.Ordinal).Equals(setting, StringComparison.OrdinalIgnoreCase));
}
