using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Praison.Orleans.Client;
using static Praison.Orleans.Tests.Client.ClientTesting;

namespace Praison.Orleans.Tests.Processes;

/// <summary>
/// The .NET client following a job through a silo failover: Azurite, three silo processes and a gateway
/// process; the silo running the job is killed with SIGKILL while the client streams it.
/// </summary>
[Trait("Category", "Process")]
[Collection(ProcessClusterCollection.Name)]
public sealed class ClientFailoverTests : ProcessClusterTests<Azurite>
{
    protected override int Silos => 3;

    protected override Task<Azurite> StartStoreAsync() => Azurite.StartAsync();

    // Each silo says which jobs it took ("Job … submitted"), so the test knows which one to kill.
    protected override Task<ProcessCluster> StartClusterAsync(Azurite store, int silos) => ProcessCluster.StartAsync(
        store.ConnectionString, silos, new Dictionary<string, string> { ["Logging__LogLevel__Praison.Orleans.Grains.Jobs.JobGrain"] = "Information" });

    [Fact]
    public async Task TheSiloRunningAStreamedJobIsKilled_TheStreamGoesOnToTheResult_EachEventOnceInOrder()
    {
        using var provider = Services(new Uri(Cluster.Url));
        var jobs = provider.GetRequiredService<PraisonJobsClient>();
        var job = await jobs.SubmitAsync(new JobRequest("") { RecipeName = "wait", RecipeConfig = new JsonObject { ["seconds"] = 12, ["steps"] = 12 } });
        var events = new List<Praison.Orleans.Client.JobEvent>();
        var streamed = Task.Run(async () =>
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            await foreach (var e in jobs.StreamAsync(job.JobId, cancellationToken: bound.Token))
            {
                lock (events)
                {
                    events.Add(e);
                }
            }
        });

        await Eventually.Until(
            () => Seen(events).Any(e => e is { Type: "progress", Percentage: > 0 }), "the job to be running and streamed", TimeSpan.FromMinutes(2));
        bool Took(ServerProcess silo) => silo.Output.Contains($"Job {job.JobId} submitted", StringComparison.Ordinal);
        await Eventually.Until(() => Cluster.Silos.Any(Took), "the silo that took the job to have logged it"); // its console log is written behind
        var running = Cluster.Silos.Single(Took);
        var beforeKill = Seen(events).Max(e => e.Id ?? 0);
        await running.KillAsync();
        await streamed.WaitAsync(TimeSpan.FromMinutes(5));

        var all = Seen(events);
        var ids = all.Where(e => e.Id is not null).Select(e => e.Id!.Value).ToList();
        Assert.Equal(ids.Order().Distinct(), ids); // each event once, in order
        Assert.Contains(all, e => e is { Type: "status", Status: "running" } && e.Id > beforeKill); // restated by the silo it moved to
        Assert.Equal(("result", "waited 12s"), (all[^1].Type, all[^1].Result?.GetString()));
        var ended = await jobs.WaitAsync(job.JobId, Timeout());
        Assert.Equal((JobStatuses.Succeeded, 2), (ended.Status, ended.Attempt)); // resumed once, after the kill
    }

    private static List<Praison.Orleans.Client.JobEvent> Seen(List<Praison.Orleans.Client.JobEvent> events)
    {
        lock (events)
        {
            return [.. events];
        }
    }
}
