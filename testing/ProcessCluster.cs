using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Praison.Orleans.Testing;

/// <summary>
/// The durable cluster as it is deployed: silo processes and one gateway process (client mode) from the
/// build outputs, storage and clustering on the given Azure Storage account or PostgreSQL database,
/// with a service and cluster id of their own (no member of an earlier cluster to declare dead first).
/// Ready once the gateway's <c>/health</c> counts every silo; stopped (killed) on dispose.
/// </summary>
public sealed class ProcessCluster : IAsyncDisposable
{
    private ProcessCluster(IReadOnlyList<ServerProcess> silos, ServerProcess gateway, string url)
    {
        Silos = silos;
        Gateway = gateway;
        Url = url;
    }

    public IReadOnlyList<ServerProcess> Silos { get; }

    public ServerProcess Gateway { get; }

    /// <summary>The gateway's base address.</summary>
    public string Url { get; }

    /// <summary>Every process: the silos, then the gateway.</summary>
    public IEnumerable<ServerProcess> Processes => [.. Silos, Gateway];

    /// <summary>What each process printed last, for a failure's message.</summary>
    public string Output => string.Join("\n\n", Processes.Select(p => $"{p.Name}:\n{p.Output}"));

    /// <param name="azureStorage">The Azure Storage (Azurite) connection string of the cluster's state, index and membership.</param>
    /// <param name="silos">How many silo processes to start.</param>
    /// <param name="settings">More configuration for every process, as environment variables (<c>Section__Key</c>).</param>
    public static Task<ProcessCluster> StartAsync(string azureStorage, int silos, IReadOnlyDictionary<string, string>? settings = null) =>
        StartAsync("Azure", ("ConnectionStrings__AzureStorage", azureStorage), id => AzureMembershipAsync(azureStorage, id), silos, settings);

    /// <summary>As <see cref="StartAsync(string, int, IReadOnlyDictionary{string, string}?)"/>, on the PostgreSQL database <paramref name="postgres"/> (a connection string).</summary>
    public static Task<ProcessCluster> StartOnPostgresAsync(string postgres, int silos, IReadOnlyDictionary<string, string>? settings = null) =>
        StartAsync("Postgres", ("ConnectionStrings__Postgres", postgres), id => PostgresMembershipAsync(postgres, id), silos, settings);

    private static async Task<ProcessCluster> StartAsync(
        string storage, (string Name, string Value) connectionString, Func<string, Task<string>> membershipOf, int silos,
        IReadOnlyDictionary<string, string>? settings)
    {
        var id = $"cluster-{Guid.NewGuid():N}";
        var environment = new Dictionary<string, string>
        {
            ["Cluster__Storage"] = storage,
            [connectionString.Name] = connectionString.Value,
            ["Cluster__ServiceId"] = id,
            ["Cluster__ClusterId"] = id,
            ["Logging__LogLevel__Default"] = "Warning",
            // Load from the crash test and the scale-out bench measures the cluster, not the per-tenant quotas.
            ["Api__SubmitsPerSecondPerTenant"] = "0",
            ["Api__MaxLiveJobsPerTenant"] = "0",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        var ports = FreePorts.Take(2 * silos + 1); // taken at once, so no two are the same
        var siloProcesses = Enumerable.Range(0, silos)
            .Select(i => ServerProcess.Start($"silo{i + 1}", "silo", "Praison.Orleans.Silo",
                [$"--Cluster:SiloPort={ports[2 * i]}", $"--Cluster:GatewayPort={ports[2 * i + 1]}"], environment))
            .ToList();
        var url = $"http://127.0.0.1:{ports[^1]}";
        var gateway = ServerProcess.Start("gateway", "gateway", "Praison.Orleans.Gateway", ["--Cluster:Mode=Client", "--urls", url], environment);
        var cluster = new ProcessCluster(siloProcesses, gateway, url);
        var (joined, lastAnswer) = await cluster.JoinedAsync(silos);
        if (joined != silos)
        {
            var output = cluster.Output;
            var membership = await membershipOf(id);
            await cluster.DisposeAsync();
            throw new InvalidOperationException(
                $"The cluster of {silos} silo processes did not come up; the gateway's last /health: {lastAnswer}\n" +
                $"its membership table:\n{membership}\n{output}");
        }

        return cluster;
    }

    /// <summary>The cluster's rows in Orleans' membership table, one line each, for a failure's message.</summary>
    private static async Task<string> AzureMembershipAsync(string azureStorage, string clusterId)
    {
        try
        {
            var table = new Azure.Data.Tables.TableClient(azureStorage, "OrleansSiloInstances");
            var rows = new List<string>();
            await foreach (var row in table.QueryAsync<Azure.Data.Tables.TableEntity>(r => r.PartitionKey == clusterId))
            {
                rows.Add(string.Join(" ", row.Where(p => p.Key is not ("odata.etag" or "PartitionKey")).Select(p => $"{p.Key}={p.Value}")));
            }

            return string.Join("\n", rows);
        }
        catch (Exception exception)
        {
            return $"(not read: {exception.Message})";
        }
    }

    /// <summary>The cluster's silo rows in PostgreSQL, one line each, for a failure's message.</summary>
    private static async Task<string> PostgresMembershipAsync(string postgres, string clusterId)
    {
        try
        {
            await using var database = Npgsql.NpgsqlDataSource.Create(postgres);
            await using var command = database.CreateCommand(
                "SELECT address, port, generation, status, i_am_alive_time FROM praison_silos WHERE deployment_id = $1");
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = clusterId });
            await using var reader = await command.ExecuteReaderAsync();
            var rows = new List<string>();
            while (await reader.ReadAsync())
            {
                rows.Add($"{reader.GetString(0)}:{reader.GetInt32(1)}@{reader.GetInt32(2)} status={reader.GetInt32(3)} alive={reader.GetDateTime(4):O}");
            }

            return string.Join("\n", rows);
        }
        catch (Exception exception)
        {
            return $"(not read: {exception.Message})";
        }
    }

    /// <summary>
    /// The silos the gateway counts once all have joined, or sooner when a process exits or time runs
    /// out; with what the gateway's <c>/health</c> last answered, for a failure's message.
    /// </summary>
    private async Task<(int Joined, string LastAnswer)> JoinedAsync(int silos)
    {
        using var http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(10) };
        var lastAnswer = "none";
        try
        {
            var joined = await Eventually.Until(
                async () =>
                {
                    if (Processes.FirstOrDefault(p => p.HasExited) is { } exited)
                    {
                        lastAnswer = $"{exited.Name} exited";
                        return -1;
                    }

                    try
                    {
                        var health = (await http.GetFromJsonAsync<JsonObject>("/health"))!;
                        lastAnswer = health.ToJsonString();
                        return (int)health["cluster"]!["silos"]!;
                    }
                    catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
                    {
                        lastAnswer = exception.Message;
                        return 0;
                    }
                },
                joined => joined == silos || joined < 0,
                $"{silos} silos to join",
                TimeSpan.FromSeconds(240)); // cold processes on a loaded 2-core machine: generous, as it is only a bound
            return (joined, lastAnswer);
        }
        catch (TimeoutException)
        {
            return (0, lastAnswer);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in Processes)
        {
            await process.DisposeAsync();
        }
    }
}
