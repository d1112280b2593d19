namespace Praison.Orleans.Tests.Processes;

/// <summary>
/// A test class's deployed cluster: its store (<typeparamref name="TStore"/>: Azurite, a PostgreSQL
/// server), silo processes and a gateway process on it, started before the tests and killed after.
/// </summary>
public abstract class ProcessClusterTests<TStore> : IAsyncLifetime
    where TStore : class, IAsyncDisposable
{
    private TStore? _store;
    private ProcessCluster? _cluster;

    protected TStore Store => _store!;

    protected ProcessCluster Cluster => _cluster!;

    /// <summary>A client of the gateway process.</summary>
    protected HttpClient Http { get; private set; } = null!;

    /// <summary>How many silo processes the cluster has.</summary>
    protected abstract int Silos { get; }

    protected abstract Task<TStore> StartStoreAsync();

    protected abstract Task<ProcessCluster> StartClusterAsync(TStore store, int silos);

    public async Task InitializeAsync()
    {
        try
        {
            _store = await StartStoreAsync();
            _cluster = await StartClusterAsync(_store, Silos);
            Http = new HttpClient { BaseAddress = new Uri(_cluster.Url), Timeout = TimeSpan.FromSeconds(60) };
        }
        catch
        {
            await DisposeAsync(); // xunit does not dispose a class whose initialization failed
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
            _cluster = null;
        }

        if (_store is not null)
        {
            await _store.DisposeAsync();
            _store = null;
        }
    }
}
