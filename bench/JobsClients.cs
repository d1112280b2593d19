using Praison.Orleans.Client;

namespace Praison.Orleans.Bench;

/// <summary>The typed client (<c>client/</c>) on a server, as an application registers it; disposing it releases its handlers.</summary>
public sealed class JobsClients(ServiceProvider services) : IAsyncDisposable
{
    public PraisonJobsClient Jobs { get; } = services.GetRequiredService<PraisonJobsClient>();

    public static JobsClients For(string url, int connections = 256)
    {
        var services = new ServiceCollection();
        services.AddPraisonJobsClient(o => o.BaseAddress = new Uri(url))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { MaxConnectionsPerServer = connections });
        return new JobsClients(services.BuildServiceProvider());
    }

    public ValueTask DisposeAsync() => services.DisposeAsync();
}
