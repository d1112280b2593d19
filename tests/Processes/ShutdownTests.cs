using System.Diagnostics;

namespace Praison.Orleans.Tests.Processes;

/// <summary>A silo process asked to stop exits within its shutdown limit, even with its storage gone.</summary>
[Trait("Category", "Process")]
[Collection(ProcessClusterCollection.Name)]
public sealed class ShutdownTests
{
    [Fact]
    public async Task SiloAskedToStop_WhileItsStorageIsDown_ExitsWithinItsShutdownTimeout()
    {
        var limit = TimeSpan.FromSeconds(5);
        await using var azurite = await Azurite.StartAsync();
        await using var cluster = await ProcessCluster.StartAsync(azurite.ConnectionString, silos: 1,
            new Dictionary<string, string> { ["Cluster__ShutdownTimeout"] = limit.ToString() });
        var silo = cluster.Silos[0];

        await azurite.StopAsync(); // membership and job storage unreachable: Orleans would retry its last writes
        var asked = Stopwatch.StartNew();
        silo.Terminate();
        var exited = await silo.ExitsWithinAsync(TimeSpan.FromMinutes(2));

        Assert.True(exited, "the silo did not exit at all:\n" + silo.Output);
        // The promise is the limit plus a few seconds' grace; the rest is margin for a loaded machine.
        Assert.True(asked.Elapsed < limit + TimeSpan.FromSeconds(25), $"the silo took {asked.Elapsed} to exit:\n{silo.Output}");
    }
}
