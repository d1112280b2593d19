using System.Net;
using Praison.Orleans.Client;

namespace Praison.Orleans.Bench;

/// <summary>
/// What the typed client (<c>client/</c>) costs per call over a raw <see cref="HttpClient"/>, on the same
/// embedded server in the same run, alternated raw, client, client, raw: submits of an echo job (the
/// raw one posts the same JSON and reads the 202's body), and status reads of one running job (the raw
/// one reads the body as text; the client reads it into its typed status). Only answers that did what
/// was asked count (202, 200).
/// </summary>
public sealed class ClientOverhead(BenchOptions options, Dictionary<string, double> figures)
{
    public async Task<List<Measurement>> RunAsync()
    {
        var target = await Targets.StartPraisonAsync();
        try
        {
            using var raw = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = new Uri(target.Url) };
            await using var clients = JobsClients.For(target.Url, connections: 256);
            var client = clients.Jobs;
            // A running job is read: a finished one is released after each read (memory mode), and reads
            // racing its release meet 503s (docs/benchmarks.md), which would measure the server, not the client.
            var live = await client.SubmitAsync(new JobRequest("") { RecipeName = "wait", RecipeConfig = new() { ["seconds"] = 3600 } });

            var results = new List<Measurement>();
            foreach (var (_, call) in Alternated(raw, client, live.JobId).DistinctBy(c => c.Name))
            {
                await LoadGenerator.RunAsync("warm-up", options.Concurrency, TimeSpan.Zero, TimeSpan.FromSeconds(3), call); // both paths compiled first
            }

            foreach (var (name, call) in Alternated(raw, client, live.JobId))
            {
                results.Add(await LoadGenerator.RunAsync(name, options.Concurrency, options.WarmUp, options.Duration, call));
            }

            await client.CancelAsync(live.JobId);

            foreach (var kind in new[] { "submit", "status" })
            {
                double Rate(string who) => results.Where(r => r.Name == $"client overhead: {kind}, {who}").Average(r => r.PerSecond);
                figures[$"client overhead: {kind} rate, client / raw HttpClient"] = Rate("client") / Rate("raw HttpClient");
            }

            return results;
        }
        finally
        {
            await target.StopAsync();
        }
    }

    private static IEnumerable<(string Name, Func<CancellationToken, Task<bool>> Call)> Alternated(HttpClient raw, PraisonJobsClient client, string jobId)
    {
        var body = new { prompt = "bench", recipe_name = "echo" };
        (string, Func<CancellationToken, Task<bool>>) RawSubmit() => ("client overhead: submit, raw HttpClient", async ct =>
        {
            using var response = await raw.PostAsJsonAsync("/api/v1/runs", body, ct);
            await response.Content.ReadAsStringAsync(ct);
            return response.StatusCode == HttpStatusCode.Accepted;
        });
        (string, Func<CancellationToken, Task<bool>>) ClientSubmit() => ("client overhead: submit, client", async ct =>
            (await client.SubmitAsync(new JobRequest("bench") { RecipeName = "echo" }, cancellationToken: ct)).JobId.Length > 0);
        (string, Func<CancellationToken, Task<bool>>) RawStatus() => ("client overhead: status, raw HttpClient", async ct =>
        {
            using var response = await raw.GetAsync($"/api/v1/runs/{jobId}", ct);
            await response.Content.ReadAsStringAsync(ct);
            return response.StatusCode == HttpStatusCode.OK;
        });
        (string, Func<CancellationToken, Task<bool>>) ClientStatus() => ("client overhead: status, client", async ct =>
            (await client.GetAsync(jobId, ct)).Status == JobStatuses.Running);
        return [RawSubmit(), ClientSubmit(), ClientSubmit(), RawSubmit(), RawStatus(), ClientStatus(), ClientStatus(), RawStatus()];
    }
}
