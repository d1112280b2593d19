using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Praison.Orleans.Tests.Schedules;

/// <summary><c>/api/v1/schedules</c> over HTTP: the contract, refusals naming their field, firings, overlap, trigger, tenants.</summary>
[Collection(JobsClusterCollection.Name)]
public sealed class SchedulesApiTests(JobsClusterFixture fixture)
{
    private HttpClient Http => fixture.Http;

    [Fact]
    public async Task Create_Get_List_Patch_Delete()
    {
        var id = NewId();
        using var created = await Http.PostAsJsonAsync("/api/v1/schedules", new
        {
            schedule_id = id, cron = "30 2 * * *", timezone = "Europe/Berlin", catch_up = "none",
            job = new { prompt = "review", recipe_name = "echo", recipe_config = new { a = 1 } },
        });
        var body = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        var got = (await Http.GetFromJsonAsync<JsonObject>($"/api/v1/schedules/{id}"))!;
        var listed = (await Http.GetFromJsonAsync<JsonObject>("/api/v1/schedules?page_size=100"))!;
        using var patched = await PatchAsync(Http, id, new { cron = "0 3 * * *", overlap = "allow" });
        var patchedBody = (await patched.Content.ReadFromJsonAsync<JsonObject>())!;
        using var idChange = await PatchAsync(Http, id, new { schedule_id = "other" });
        using var deleted = await Http.DeleteAsync($"/api/v1/schedules/{id}");
        using var gone = await Http.GetAsync($"/api/v1/schedules/{id}");
        using var deletedAgain = await Http.DeleteAsync($"/api/v1/schedules/{id}");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/api/v1/schedules/{id}", created.Headers.Location!.OriginalString);
        Assert.Equal((id, "30 2 * * *", "Europe/Berlin", "skip", "none", false), ((string?)body["schedule_id"], (string?)body["cron"],
            (string?)body["timezone"], (string?)body["overlap"], (string?)body["catch_up"], (bool)body["paused"]!));
        Assert.Equal(1, (int)body["job"]!["recipe_config"]!["a"]!);
        Assert.Equal(2, DateTimeOffset.Parse((string)body["next_run_at"]!).ToOffset(BerlinOffset(body)).Hour); // 02:30 in Berlin
        Assert.Equal(body.ToJsonString(), got.ToJsonString());
        Assert.Contains(id, listed["schedules"]!.AsArray().Select(s => (string?)s!["schedule_id"]));
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal(("0 3 * * *", "allow", "none"), ((string?)patchedBody["cron"], (string?)patchedBody["overlap"], (string?)patchedBody["catch_up"]));
        Assert.NotEqual((string?)body["next_run_at"], (string?)patchedBody["next_run_at"]);
        await AssertProblemAsync(idChange, HttpStatusCode.UnprocessableEntity, "schedule_id");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await AssertProblemAsync(gone, HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.NotFound, deletedAgain.StatusCode);
    }

    public static TheoryData<string, string> Refusals => new()
    {
        { """{"cron":"every day","job":{"prompt":"x"}}""", "cron" },
        { """{"cron":"* * * * * *","job":{"prompt":"x"}}""", "cron" }, // every second: under Schedules:MinInterval
        { """{"cron":"0 0 30 2 *","job":{"prompt":"x"}}""", "cron" },
        { """{"cron":"0 2 * * *","timezone":"Nowhere/Special","job":{"prompt":"x"}}""", "timezone" },
        { """{"cron":"0 2 * * *"}""", "job" },
        { """{"cron":"0 2 * * *","job":"run it"}""", "job" },
        { """{"cron":"0 2 * * *","job":{}}""", "job.prompt" },
        { """{"cron":"0 2 * * *","job":{"prompt":"x","delay_seconds":5}}""", "job.delay_seconds" },
        { """{"cron":"0 2 * * *","job":{"prompt":"x","idempotency_key":"k"}}""", "job.idempotency_key" },
        { """{"cron":"0 2 * * *","job":{"prompt":"x","recipe_name":"no-such-recipe"}}""", "job.recipe_name" },
        { """{"cron":"0 2 * * *","job":{"prompt":"x","timeout":-1}}""", "job.timeout" },
        { """{"cron":"0 2 * * *","overlap":"sometimes","job":{"prompt":"x"}}""", "overlap" },
        { """{"cron":"0 2 * * *","catch_up":"all","job":{"prompt":"x"}}""", "catch_up" },
        { """{"cron":"0 2 * * *","paused":"yes","job":{"prompt":"x"}}""", "paused" },
        { """{"schedule_id":"no spaces","cron":"0 2 * * *","job":{"prompt":"x"}}""", "schedule_id" },
        { """{"cron":12,"job":{"prompt":"x"}}""", "cron" },
        { """[1,2]""", "body" },
        { """{"cron":"0 2 * * *","job":{"prompt":"x"},"batch":{"prompt":"y"}}""", "batch" },
        { """{"cron":"0 2 * * *","job":{"prompt":"x"},"batch":[{"prompt":"y"},{"recipe_name":"echo"}]}""", "batch[1].prompt" },
        { """{"cron":"0 2 * * *","job":{"prompt":"x"},"batch":[{"prompt":"y","recipe_name":"no-such-recipe"}]}""", "batch[0].recipe_name" },
        { """{"cron":"0 2 * * *","job":{"prompt":"x"},"batch":[{"prompt":"y","run_at":"2030-01-01T00:00:00Z"}]}""", "batch[0].run_at" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task BadBody_Is422NamingTheField_AndCreatesNothing(string json, string field)
    {
        var before = await TotalAsync();

        using var response = await Http.PostAsync("/api/v1/schedules", new StringContent(json, Encoding.UTF8, "application/json"));

        await AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity, field);
        Assert.Equal(before, await TotalAsync());
    }

    [Fact]
    public async Task MalformedJson_Is400_ADuplicateId_Is409_AndUnknownIds_Are404()
    {
        var id = NewId();
        using var malformed = await Http.PostAsync("/api/v1/schedules", new StringContent("{\"cron\":", Encoding.UTF8, "application/json"));
        using var first = await CreateAsync(Http, id, "0 2 * * *");
        using var second = await CreateAsync(Http, id, "0 4 * * *");
        using var trigger = await Http.PostAsync("/api/v1/schedules/nobody-has-this/trigger", null);
        using var pause = await Http.PostAsync("/api/v1/schedules/bad%20id/pause", null);

        await AssertProblemAsync(malformed, HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        await AssertProblemAsync(second, HttpStatusCode.Conflict);
        Assert.Equal("0 2 * * *", (string?)(await Http.GetFromJsonAsync<JsonObject>($"/api/v1/schedules/{id}"))!["cron"]);
        await AssertProblemAsync(trigger, HttpStatusCode.NotFound);
        await AssertProblemAsync(pause, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task EveryTwoSeconds_EachFiringSubmitsOneJobNamingTheSchedule()
    {
        var id = NewId();
        using var created = await CreateAsync(Http, id, "*/2 * * * * *", new { prompt = "tick", recipe_name = "echo" }, overlap: "allow");
        await Eventually.Until(() => GetAsync(Http, id), s => (long)s["runs"]! >= 3, "three firings", TimeSpan.FromSeconds(60));
        using var paused = await Http.PostAsync($"/api/v1/schedules/{id}/pause", null);
        var schedule = await GetAsync(Http, id);

        var jobs = (await Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs?schedule_id={id}&page_size=100"))!["jobs"]!.AsArray();
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        Assert.Null(schedule["next_run_at"]);
        Assert.Equal((long)schedule["runs"]!, jobs.Count); // one job per firing: no more, no fewer
        Assert.All(jobs, job => Assert.Equal((id, id), ((string?)job!["schedule_id"], (string?)job["session_id"])));
        Assert.Equal(jobs.Count, jobs.Select(j => (string?)j!["job_id"]).Distinct().Count());
        Assert.Contains((string?)schedule["last_job_id"], jobs.Select(j => (string?)j!["job_id"]));
    }

    [Fact]
    public async Task OverlapSkip_FiresNoJobWhileTheLastOneIsLive()
    {
        var id = NewId();
        using var created = await CreateAsync(Http, id, "*/2 * * * * *", new { prompt = "long", recipe_name = "wait", recipe_config = new { seconds = 600 } });
        var skipping = await Eventually.Until(() => GetAsync(Http, id), s => (long)s["skipped"]! >= 2, "two firings skipped", TimeSpan.FromSeconds(60));
        var firstJob = (string)skipping["last_job_id"]!;
        var whileLive = await JobsAsync(id);
        using var cancel = await Http.PostAsync($"/api/v1/runs/{firstJob}/cancel", null);
        var next = await Eventually.Until(() => GetAsync(Http, id), s => (long)s["runs"]! == 2, "a firing after the job ended", TimeSpan.FromSeconds(60));
        using var paused = await Http.PostAsync($"/api/v1/schedules/{id}/pause", null);
        using var cancelNext = await Http.PostAsync($"/api/v1/runs/{(string)next["last_job_id"]!}/cancel", null);

        Assert.Equal(1, (long)skipping["runs"]!);
        Assert.Equal([firstJob], whileLive);
        Assert.Contains("overlap: skip", (string?)skipping["last_error"]);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.NotEqual(firstJob, (string?)next["last_job_id"]);
    }

    [Fact]
    public async Task Trigger_SubmitsNow_EvenWhilePaused()
    {
        var id = NewId();
        using var created = await CreateAsync(Http, id, "0 2 1 1 *", new { prompt = "now", recipe_name = "echo", priority = 3 }, paused: true);

        using var triggered = await Http.PostAsync($"/api/v1/schedules/{id}/trigger", null);
        var submitted = (await triggered.Content.ReadFromJsonAsync<JsonObject>())!;
        var done = await Http.UntilStatusAsync((string)submitted["job_id"]!, "succeeded");
        var schedule = await GetAsync(Http, id);

        Assert.Equal(HttpStatusCode.Accepted, triggered.StatusCode);
        Assert.Equal((id, id), ((string?)done["schedule_id"], (string?)done["session_id"]));
        Assert.Equal((3, 3), ((int)done["priority"]!, (int)schedule["job"]!["priority"]!)); // the schedule's job fields reach each firing
        Assert.Equal(((string?)submitted["job_id"], 1L, true), ((string?)schedule["last_job_id"], (long)schedule["runs"]!, (bool)schedule["paused"]!));
        Assert.Equal([(string)submitted["job_id"]!], await JobsAsync(id));
    }

    [Fact]
    public async Task AScheduledJobWithDependsOn_EachFiringWaitsForTheParents_AndGetsTheirResults()
    {
        var parent = await Http.SubmitJobAsync(new { prompt = "the data", recipe_name = "echo" });
        await Http.UntilStatusAsync(parent, "succeeded");
        var id = NewId();
        using var created = await CreateAsync(Http, id, "0 2 1 1 *", new { prompt = "report", recipe_name = "echo", depends_on = new[] { parent }, run_if = "finished" }, paused: true);

        using var triggered = await Http.PostAsync($"/api/v1/schedules/{id}/trigger", null);
        var job = (string)(await triggered.Content.ReadFromJsonAsync<JsonObject>())!["job_id"]!;
        var done = await Http.UntilStatusAsync(job, "succeeded");
        var result = (await Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{job}/result"))!;
        var schedule = await GetAsync(Http, id);

        Assert.Equal([parent], done["depends_on"]!.AsArray().Select(p => (string)p!));
        Assert.Equal($"Results of the jobs this one depends on:\n[{parent}]\nthe data\n\nreport", (string)result["result"]!);
        Assert.Equal([parent], schedule["job"]!["depends_on"]!.AsArray().Select(p => (string)p!));
        Assert.Equal("finished", (string)schedule["job"]!["run_if"]!);
    }

    [Fact]
    public async Task Tenants_SeeOnlyTheirOwnSchedules_UnderTheSameId()
    {
        var id = NewId();
        using var acme = Keyed(JobsClusterFixture.AcmeKey);
        using var globex = Keyed(JobsClusterFixture.GlobexKey);
        using var acmeCreated = await CreateAsync(acme, id, "0 2 * * *");

        using var globexGet = await globex.GetAsync($"/api/v1/schedules/{id}");
        using var globexDelete = await globex.DeleteAsync($"/api/v1/schedules/{id}");
        using var globexTrigger = await globex.PostAsync($"/api/v1/schedules/{id}/trigger", null);
        using var globexCreated = await CreateAsync(globex, id, "0 5 * * *");
        var globexList = (await globex.GetFromJsonAsync<JsonObject>("/api/v1/schedules?page_size=100"))!;

        Assert.Equal(HttpStatusCode.Created, acmeCreated.StatusCode);
        Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.NotFound), (globexGet.StatusCode, globexDelete.StatusCode, globexTrigger.StatusCode));
        Assert.Equal(HttpStatusCode.Created, globexCreated.StatusCode);
        Assert.Equal("0 2 * * *", (string?)(await GetAsync(acme, id))["cron"]);
        Assert.Equal("0 5 * * *", (string?)(await GetAsync(globex, id))["cron"]);
        Assert.Single(globexList["schedules"]!.AsArray(), s => (string?)s!["schedule_id"] == id);
    }

    [Fact]
    public async Task ABatchSchedule_ShowsItsBatch_AndATriggerMakesTheBatchWithTheJobAsItsThenJob()
    {
        var id = NewId();
        using var created = await Http.PostAsJsonAsync("/api/v1/schedules", new
        {
            schedule_id = id, cron = "0 2 * * *",
            job = new { prompt = "report", recipe_name = "echo" },
            batch = new[] { new { prompt = "doc 1", recipe_name = "echo" }, new { prompt = "doc 2", recipe_name = "echo" } },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var schedule = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(["doc 1", "doc 2"], schedule["batch"]!.AsArray().Select(job => (string)job!["prompt"]!));

        using var triggered = await Http.PostAsync($"/api/v1/schedules/{id}/trigger", null);

        Assert.Equal(HttpStatusCode.Accepted, triggered.StatusCode);
        var then = (string)(await triggered.Content.ReadFromJsonAsync<JsonObject>())!["job_id"]!;
        var after = await GetAsync(Http, id);
        Assert.Equal(then, (string)after["last_job_id"]!);
        var batchId = (string)after["last_batch_id"]!;
        var thenDone = await Http.UntilStatusAsync(then, "succeeded");
        Assert.Equal([batchId], thenDone["depends_on"]!.AsArray().Select(p => (string)p!));
        Assert.Equal(id, (string)thenDone["schedule_id"]!);
        var batch = (await Http.GetFromJsonAsync<JsonObject>($"/api/v1/batches/{batchId}"))!;
        Assert.Equal(2, (int)batch["counts"]!["succeeded"]!);
        Assert.All(batch["jobs"]!.AsArray(), job => Assert.Equal((id, batchId), ((string)job!["schedule_id"]!, (string)job["batch_id"]!)));
        var result = (string)(await Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{then}/result"))!["result"]!;
        Assert.Contains("\"doc 1\"", result);
        Assert.Contains("\"doc 2\"", result);

        using var unbatched = await PatchAsync(Http, id, new { batch = Array.Empty<object>() }); // an empty batch takes it away
        Assert.False((await unbatched.Content.ReadFromJsonAsync<JsonObject>())!.ContainsKey("batch"));
        await Http.DeleteAsync($"/api/v1/schedules/{id}");
    }

    private static string NewId() => "s-" + Guid.NewGuid().ToString("N")[..12];

    private HttpClient Keyed(string key)
    {
        var client = new HttpClient { BaseAddress = fixture.AuthHttp.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("X-API-Key", key);
        return client;
    }

    private static Task<HttpResponseMessage> CreateAsync(
        HttpClient http, string id, string cron, object? job = null, string overlap = "skip", bool paused = false) =>
        http.PostAsJsonAsync("/api/v1/schedules", new { schedule_id = id, cron, job = job ?? new { prompt = "x", recipe_name = "echo" }, overlap, paused });

    private static async Task<JsonObject> GetAsync(HttpClient http, string id) =>
        (await http.GetFromJsonAsync<JsonObject>($"/api/v1/schedules/{id}"))!;

    private static Task<HttpResponseMessage> PatchAsync(HttpClient http, string id, object body) =>
        http.PatchAsJsonAsync($"/api/v1/schedules/{id}", body);

    private async Task<List<string>> JobsAsync(string scheduleId) =>
        (await Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs?schedule_id={scheduleId}&page_size=100"))!["jobs"]!.AsArray()
            .Select(j => (string)j!["job_id"]!).ToList();

    private async Task<int> TotalAsync() => (int)(await Http.GetFromJsonAsync<JsonObject>("/api/v1/schedules"))!["total"]!;

    private static TimeSpan BerlinOffset(JsonObject schedule) =>
        TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin").GetUtcOffset(DateTimeOffset.Parse((string)schedule["next_run_at"]!));

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string? field = null)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        if (field is not null)
        {
            var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.True(problem["errors"]?[field] is not null, $"no error for {field}: {problem.ToJsonString()}");
        }
    }
}
