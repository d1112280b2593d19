using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Praison.Orleans.Tests.Processes;

/// <summary>
/// What a PostgreSQL outage does to the deployed cluster (two silo processes and a gateway process on a
/// real server): the server is killed (SIGKILL: no shutdown, as a crash) while jobs run and end, and
/// started again on its data. Meanwhile the API answers only what it can or 503 with Retry-After;
/// afterwards nothing is lost and nothing seen finished runs again.
/// </summary>
[Trait("Category", "Process")]
[Collection(ProcessClusterCollection.Name)]
public sealed class PostgresOutageTests : ProcessClusterTests<PostgresServer>
{
    protected override int Silos => 2;

    protected override Task<PostgresServer> StartStoreAsync() => PostgresServer.StartAsync();

    protected override async Task<ProcessCluster> StartClusterAsync(PostgresServer store, int silos) =>
        await ProcessCluster.StartOnPostgresAsync(await store.CreateDatabaseAsync(), silos);

    [Fact]
    public async Task ServerKilledAndRestarted_WhileJobsRunAndEnd_LosesNothing_RepeatsNothingSeenFinished_And503sMeanwhile()
    {
        var session = "outage-" + Guid.NewGuid().ToString("N")[..8];
        var finished = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            finished.Add(await SubmitAsync(new { prompt = $"done {i}", recipe_name = "echo", session_id = session }));
        }

        var seenFinished = new Dictionary<string, JsonObject>();
        foreach (var id in finished)
        {
            seenFinished[id] = await Eventually.Until(() => StatusAsync(id), s => (string?)s?["status"] == "succeeded", "an echo job to succeed") ?? throw new InvalidOperationException();
        }

        var running = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            running.Add(await SubmitAsync(new { prompt = "", recipe_name = "wait", session_id = session, recipe_config = new { seconds = 4, steps = 4 } }));
        }

        var started = await Eventually.Until(
            async () => (await Task.WhenAll(running.Select(StatusAsync))).Where(s => (string?)s?["status"] == "running").ToList(),
            runs => runs.Count >= 2, "jobs to be running");
        // The outage lasts past these jobs' work (4 s each), so their ends are written into it.
        var workDone = started.Max(s => DateTimeOffset.Parse((string)s!["started_at"]!, System.Globalization.CultureInfo.InvariantCulture)) + TimeSpan.FromSeconds(5);

        await Store.KillAsync();
        // Meanwhile: every answer is a success (what the silos hold in memory) or a 503 with Retry-After,
        // until a submit and a list have each been refused so (what needs the database cannot be done).
        var answers = new ConcurrentBag<string>();
        await Eventually.Until(
            async () =>
            {
                answers.Add(await AnswerAsync(() => Http.PostAsJsonAsync("/api/v1/runs", new { prompt = "in the outage", recipe_name = "echo", session_id = session }), "submit"));
                answers.Add(await AnswerAsync(() => Http.GetAsync($"/api/v1/runs?session_id={session}"), "list"));
                answers.Add(await AnswerAsync(() => Http.GetAsync($"/api/v1/runs/{running[0]}"), "status"));
                return string.Join(", ", answers.Distinct().Order());
            },
            seen => seen.Contains("submit 503", StringComparison.Ordinal) && seen.Contains("list 503", StringComparison.Ordinal)
                    && DateTimeOffset.UtcNow > workDone,
            "a submit and a list to be answered 503 with Retry-After, and the running jobs' work to be done",
            TimeSpan.FromMinutes(2));
        await Store.RestartAsync();

        Assert.All(answers, answer => Assert.Matches("^(submit (202|503)|list (200|503)|status (200|503))$", answer));
        var sessionJobs = await Eventually.Until(
            async () => await ListAsync(session),
            jobs => jobs.Count >= finished.Count + running.Count && jobs.All(j => (string)j["status"]! is "succeeded" or "failed" or "cancelled"),
            "every job of the session to end after the restart",
            TimeSpan.FromMinutes(3));
        Assert.All(sessionJobs, job => Assert.Equal("succeeded", (string)job["status"]!));
        Assert.Superset(finished.Concat(running).ToHashSet(), sessionJobs.Select(j => (string)j["job_id"]!).ToHashSet());
        foreach (var (id, before) in seenFinished)
        {
            var after = (await StatusAsync(id))!;
            Assert.Equal(((string?)before["completed_at"], (int?)before["attempt"]), ((string?)after["completed_at"], (int?)after["attempt"]));
        }

        Assert.All(Cluster.Processes, p => Assert.False(p.HasExited, $"{p.Name} exited:\n{p.Output}"));
    }

    /// <summary>"what status", Retry-After required of a 503 ("what 503-without-retry-after" otherwise).</summary>
    private static async Task<string> AnswerAsync(Func<Task<HttpResponseMessage>> send, string what)
    {
        using var response = await send();
        return response.StatusCode == HttpStatusCode.ServiceUnavailable && response.Headers.RetryAfter?.Delta is null
            ? $"{what} 503-without-retry-after"
            : response.StatusCode == HttpStatusCode.InternalServerError
                ? $"{what} 500 {await response.Content.ReadAsStringAsync()}"
                : $"{what} {(int)response.StatusCode}";
    }

    private async Task<string> SubmitAsync(object body)
    {
        using var response = await Http.PostAsJsonAsync("/api/v1/runs", body);
        response.EnsureSuccessStatusCode();
        return (string)(await response.Content.ReadFromJsonAsync<JsonObject>())!["job_id"]!;
    }

    /// <summary>The job's status body; null while the cluster answers 503 (the server restarting).</summary>
    private async Task<JsonObject?> StatusAsync(string jobId)
    {
        using var response = await Http.GetAsync($"/api/v1/runs/{jobId}");
        return response.StatusCode == HttpStatusCode.ServiceUnavailable ? null
            : (await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private async Task<List<JsonObject>> ListAsync(string session)
    {
        using var response = await Http.GetAsync($"/api/v1/runs?session_id={session}&page_size=100");
        return response.StatusCode == HttpStatusCode.ServiceUnavailable ? []
            : [.. (await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonObject>())!["jobs"]!.AsArray().Select(j => j!.AsObject())];
    }
}
