using System.Net;

namespace Praison.Orleans.Grains.Hosting;

/// <summary>Where the cluster is and how this process takes part in it. Section <c>Cluster</c>.</summary>
public sealed class JobsClusterOptions
{
    public const string Section = "Cluster";

    /// <summary>
    /// <c>Embedded</c>: the gateway co-hosts one silo with in-memory storage. <c>Client</c>: the gateway
    /// joins the silos at <see cref="Gateways"/>. Default: Embedded. (The silo host ignores it.)
    /// </summary>
    public ClusterMode Mode { get; set; } = ClusterMode.Embedded;

    /// <summary>
    /// Where job records, reminders and cluster membership live. <c>Memory</c>: in the silos (lost when
    /// they stop; localhost clustering). <c>Azure</c>: Azure Storage at <see cref="AzureStorage"/> (blob
    /// grain state, table reminders and membership; any silo may die). <c>Postgres</c>: PostgreSQL at
    /// <see cref="Postgres"/> (a row per job, grain state, reminders and membership). Default: Memory.
    /// </summary>
    public JobStorageMode Storage { get; set; } = JobStorageMode.Memory;

    /// <summary>The Azure Storage connection string (<c>ConnectionStrings:AzureStorage</c>). Default: none.</summary>
    public string? AzureStorage { get; set; }

    /// <summary>The Npgsql connection string (<c>ConnectionStrings:Postgres</c>). Default: none.</summary>
    public string? Postgres { get; set; }

    /// <summary>The address a silo advertises to the others in Azure and Postgres mode. Default: 127.0.0.1.</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>Orleans cluster id; every silo and gateway of one cluster shares it. Default: praison.</summary>
    public string ClusterId { get; set; } = "praison";

    /// <summary>Orleans service id, stable across deployments. Default: praison-jobs.</summary>
    public string ServiceId { get; set; } = "praison-jobs";

    /// <summary>
    /// The Orleans Dashboard (grains, calls, silos, reminders of the whole cluster): collected by every
    /// silo that sets it and served by a gateway that sets it at <c>/orleans/</c>. An operator's view of
    /// every tenant's grains, so a gateway with API keys refuses it. Profiling every grain call costs
    /// throughput. Default: false.
    /// </summary>
    public bool OrleansDashboard { get; set; }

    /// <summary>
    /// How long a process asked to stop (SIGTERM) takes at most: a silo hands its jobs on within it, and
    /// a process still running a few seconds past it ends itself (<see cref="BoundedShutdown"/>). Default: 30 s.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Port silos talk to each other on. Default: 11111.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port clients (gateways) reach this silo on. Default: 30000.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// Refused: it joined a silo to another in memory mode, but memory mode keeps job records in its one
    /// silo's memory (<c>SiloMemoryGrainStorage</c>), so a second silo could not see them. Several silos
    /// run in Azure or Postgres mode. Kept so that a setting from older instructions fails loudly, not silently.
    /// </summary>
    public string? PrimarySiloEndpoint { get; set; }

    /// <summary>Silo gateway endpoints (<c>ip:port</c>) a client-mode gateway connects to in memory mode. Default: <see cref="DefaultGateway"/>.</summary>
    public List<string> Gateways { get; set; } = [];

    /// <summary>Where a client looks for a memory-mode silo when <see cref="Gateways"/> names none: its default gateway port here.</summary>
    public const string DefaultGateway = "127.0.0.1:30000";

    /// <summary>
    /// <see cref="Gateways"/>, or <see cref="DefaultGateway"/> when it names none (a default inside the
    /// list itself would be appended to, not replaced, by configuration binding).
    /// </summary>
    public IReadOnlyList<string> GatewayEndpoints => Gateways.Count > 0 ? Gateways : [DefaultGateway];

    /// <summary>The problems with these options, empty when they are valid.</summary>
    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(ClusterId) || string.IsNullOrWhiteSpace(ServiceId))
        {
            yield return "Cluster:ClusterId and Cluster:ServiceId must not be empty.";
        }

        if (SiloPort is < 1 or > 65535 || GatewayPort is < 1 or > 65535)
        {
            yield return "Cluster:SiloPort and Cluster:GatewayPort must be ports (1–65535).";
        }

        if (PrimarySiloEndpoint is not null)
        {
            yield return "Cluster:PrimarySiloEndpoint: memory mode is one silo (job records live in its memory); run several silos with Cluster:Storage=Azure or Postgres.";
        }

        if (Storage == JobStorageMode.Azure && string.IsNullOrWhiteSpace(AzureStorage))
        {
            yield return "Cluster:Storage=Azure needs the connection string ConnectionStrings:AzureStorage.";
        }

        if (Storage == JobStorageMode.Postgres && PostgresConnectionProblem() is { } problem)
        {
            yield return problem;
        }

        if (ShutdownTimeout <= TimeSpan.Zero)
        {
            yield return "Cluster:ShutdownTimeout must be positive.";
        }

        if (!IPAddress.TryParse(AdvertisedAddress, out _))
        {
            yield return $"Cluster:AdvertisedAddress '{AdvertisedAddress}' is not an IP address.";
        }

        foreach (var gateway in Gateways.Where(g => !IPEndPoint.TryParse(g, out _)))
        {
            yield return $"Cluster:Gateways entry '{gateway}' is not an ip:port endpoint.";
        }
    }

    private string? PostgresConnectionProblem()
    {
        if (string.IsNullOrWhiteSpace(Postgres))
        {
            return "Cluster:Storage=Postgres needs the connection string ConnectionStrings:Postgres.";
        }

        try
        {
            _ = new Npgsql.NpgsqlConnectionStringBuilder(Postgres);
            return null;
        }
        catch (ArgumentException invalid)
        {
            return $"ConnectionStrings:Postgres is not an Npgsql connection string ({invalid.Message}).";
        }
    }

    /// <summary>Throws with every problem named when the options are invalid.</summary>
    public JobsClusterOptions Validated()
    {
        var problems = Problems().ToList();
        return problems.Count == 0
            ? this
            : throw new InvalidOperationException("Invalid cluster configuration: " + string.Join(" ", problems));
    }
}

public enum ClusterMode
{
    Embedded,
    Client,
}

public enum JobStorageMode
{
    Memory,
    Azure,
    Postgres,
}
