using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;

namespace Praison.Orleans.Grains.Postgres;

/// <summary>
/// Applies <see cref="PostgresSchema"/> before anything reads the database: first in a silo's start
/// (membership and reminders read their queries from it) and first in a client's (its gateway list
/// does). Silos and gateways may start in any order on a fresh database; the schema's lock makes one
/// of them apply it. A newer schema, or a database of another service, stops the process with the reason.
/// </summary>
public sealed class PostgresSchemaStartup(
    NpgsqlDataSource database, IOptions<ClusterOptions> cluster, ILogger<PostgresSchemaStartup> logger)
    : ILifecycleParticipant<ISiloLifecycle>, ILifecycleParticipant<IClusterClientLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PostgresSchemaStartup), ServiceLifecycleStage.First, ApplyAsync);

    public void Participate(IClusterClientLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PostgresSchemaStartup), ServiceLifecycleStage.First, ApplyAsync);

    private Task ApplyAsync(CancellationToken cancellationToken) =>
        PostgresSchema.ApplyAsync(database, cluster.Value.ServiceId, logger, cancellationToken);
}
