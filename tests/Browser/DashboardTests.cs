using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Praison.Orleans.Tests.Browser;

/// <summary>The jobs dashboard (<c>/dashboard</c>) in real Chromium, against real gateways.</summary>
public sealed class DashboardTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private HttpClient Http => fixture.Http;

    [Fact]
    public async Task List_ShowsTheSubmittedJobs_AndFiltersBySessionAndStatus()
    {
        var session = NewSession();
        var succeeded = await Http.SubmitJobAsync(new { prompt = "ok", recipe_name = "echo", session_id = session });
        var failed = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "wait", recipe_config = new { seconds = 0, steps = 1, fail = "boom" }, session_id = session });
        await Http.UntilStatusAsync(succeeded, "succeeded");
        await Http.UntilStatusAsync(failed, "failed");
        var page = await fixture.NewPageAsync();

        await page.GotoAsync(fixture.Url + "/dashboard");
        await page.FillAsync("#filter-session", session);
        await Expect(Row(page, succeeded)).ToContainTextAsync("succeeded");
        await Expect(Row(page, failed)).ToContainTextAsync("failed");
        await Expect(page.Locator("#jobs tbody tr")).ToHaveCountAsync(2);
        await page.SelectOptionAsync("#filter-status", "failed");

        await Expect(page.Locator("#jobs tbody tr")).ToHaveCountAsync(1);
        await Expect(Row(page, failed)).ToBeVisibleAsync();
        await Expect(page.Locator("#counts li[data-status=succeeded]")).ToContainTextAsync("succeeded");
    }

    [Fact]
    public async Task JobPage_ProgressBarMovesAndReaches100_WithoutAReload()
    {
        var jobId = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "wait", recipe_config = new { seconds = 4, steps = 4 }, session_id = NewSession() });
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.Url}/dashboard#/jobs/{jobId}");
        var seen = new SortedSet<double>();

        await Eventually.Until(
            async () =>
            {
                seen.Add(await page.EvalOnSelectorAsync<double>("#job-progress", "bar => bar.value"));
                return seen.Max;
            },
            max => max >= 100,
            "the progress bar to reach 100%",
            TimeSpan.FromSeconds(30));

        Assert.Contains(seen, value => value is > 0 and < 100); // it moved through the steps on this one page
        await Expect(page.Locator("#job-status")).ToHaveTextAsync("succeeded");
        await Expect(page.Locator("#job-result")).ToHaveTextAsync("waited 4s");
    }

    [Fact]
    public async Task Cancel_OnARunningJob_TurnsItCancelled()
    {
        var jobId = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "wait", recipe_config = new { seconds = 120 }, session_id = NewSession() });
        await Http.UntilStatusAsync(jobId, "running");
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.Url}/dashboard#/jobs/{jobId}");
        await Expect(page.Locator("#job-status")).ToHaveTextAsync("running");

        await page.ClickAsync("#cancel"); // the confirmation is accepted

        await Expect(page.Locator("#job-status")).ToHaveTextAsync("cancelled");
        await Expect(page.Locator("#action-message")).ToHaveTextAsync("done: cancelled");
        Assert.Equal("cancelled", (string?)(await Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{jobId}"))!["status"]);
    }

    [Fact]
    public async Task Cancel_OnAFinishedJob_ShowsTheApisAnswer()
    {
        var jobId = await Http.SubmitJobAsync(new { prompt = "done", recipe_name = "echo", session_id = NewSession() });
        await Http.UntilStatusAsync(jobId, "succeeded");
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.Url}/dashboard#/jobs/{jobId}");
        await Expect(page.Locator("#job-status")).ToHaveTextAsync("succeeded");

        await page.ClickAsync("#cancel");

        await Expect(page.Locator("#action-message")).ToContainTextAsync("400");
        await Expect(page.Locator("#job-status")).ToHaveTextAsync("succeeded");
    }

    [Fact]
    public async Task Delete_RemovesTheJob()
    {
        var jobId = await Http.SubmitJobAsync(new { prompt = "to delete", recipe_name = "echo", session_id = NewSession() });
        await Http.UntilStatusAsync(jobId, "succeeded");
        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"{fixture.Url}/dashboard#/jobs/{jobId}");
        await Expect(page.Locator("#job-status")).ToHaveTextAsync("succeeded");

        await page.ClickAsync("#delete");

        await Expect(page.Locator("#action-message")).ToHaveTextAsync("deleted");
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync($"/api/v1/runs/{jobId}")).StatusCode);
    }

    [Fact]
    public async Task SubmitForm_SubmitsAJob_AndOpensIt()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.Url + "/dashboard#/submit");
        await page.FillAsync("#submit-recipe", "echo");
        await page.FillAsync("#submit-prompt", "from the form");
        await page.FillAsync("#submit-session", NewSession());

        await page.ClickAsync("#submit-form button[type=submit]");

        await Expect(page.Locator("#job-status")).ToHaveTextAsync("succeeded");
        await Expect(page.Locator("#job-result")).ToHaveTextAsync("from the form");
        var jobId = await page.Locator("#job-id").TextContentAsync();
        Assert.Equal("succeeded", (string?)(await Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{jobId}"))!["status"]);
    }

    [Fact]
    public async Task SubmitForm_WithADelay_ShowsTheJobQueuedUntilItsTime()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync(fixture.Url + "/dashboard#/submit");
        await page.FillAsync("#submit-recipe", "echo");
        await page.FillAsync("#submit-prompt", "later");
        await page.FillAsync("#submit-delay", "600");

        await page.ClickAsync("#submit-form button[type=submit]");

        await Expect(page.Locator("#job-status")).ToHaveTextAsync("queued");
        var jobId = await page.Locator("#job-id").TextContentAsync();
        var scheduledFor = (string?)(await Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{jobId}"))!["scheduled_for"];
        Assert.NotNull(scheduledFor);
        await Expect(page.Locator("#job-scheduled")).Not.ToHaveTextAsync("at once");
        await page.ClickAsync("#delete"); // a job waiting for its time can be deleted
        await Expect(page.Locator("#action-message")).ToHaveTextAsync("deleted");
    }

    [Fact]
    public async Task WithApiKeys_ThePageAsksForAKey_AWrongOneShowsThe401_TheRightOneShowsTheJobs()
    {
        var session = NewSession();
        var jobId = await fixture.AuthHttp.SubmitJobAsync(new { prompt = "keyed", recipe_name = "echo", session_id = session });
        var page = await fixture.NewPageAsync();

        await page.GotoAsync(fixture.AuthUrl + "/dashboard");
        await Expect(page.Locator("#key-prompt")).ToBeVisibleAsync();
        await page.FillAsync("#key-input", "not-the-key");
        await page.ClickAsync("#key-form button");
        await Expect(page.Locator("#key-message")).ToHaveTextAsync("Unauthorized");
        await page.FillAsync("#key-input", BrowserFixture.ApiKey);
        await page.ClickAsync("#key-form button");
        await page.FillAsync("#filter-session", session);

        await Expect(Row(page, jobId)).ToContainTextAsync("succeeded");
        await Expect(page.Locator("#key-prompt")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task ScriptInAJobsValues_StaysInertText()
    {
        const string ImagePayload = """<img src=x onerror="window.__xss='img'">""";
        const string ScriptPayload = """<script>window.__xss='script'</script>""";
        var session = NewSession();
        var jobId = await Http.SubmitJobAsync(new { prompt = ImagePayload + ScriptPayload, recipe_name = "echo", session_id = session });
        var failed = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "wait", recipe_config = new { seconds = 0, steps = 1, fail = ImagePayload }, session_id = session });
        await Http.UntilStatusAsync(jobId, "succeeded");
        await Http.UntilStatusAsync(failed, "failed");
        var page = await fixture.NewPageAsync();

        await page.GotoAsync($"{fixture.Url}/dashboard#/jobs/{jobId}");
        await Expect(page.Locator("#job-result")).ToHaveTextAsync(ImagePayload + ScriptPayload); // shown as the text it is
        await page.GotoAsync($"{fixture.Url}/dashboard#/jobs/{failed}");
        await Expect(page.Locator("#job-error")).ToHaveTextAsync(ImagePayload);
        await page.GotoAsync($"{fixture.Url}/dashboard#/");
        await page.FillAsync("#filter-session", session);
        await Expect(page.Locator("#jobs tbody tr")).ToHaveCountAsync(2);

        Assert.Equal(0, await page.Locator("main img, main script").CountAsync()); // no element was made from them
        Assert.Null(await page.EvaluateAsync<string?>("() => window.__xss ?? null")); // and nothing ran
    }

    [Fact]
    public async Task Schedules_AreListed_AndPauseRunNowAndDeleteWork()
    {
        var id = "dash-" + Guid.NewGuid().ToString("N")[..12];
        using var created = await Http.PostAsJsonAsync("/api/v1/schedules", new
        {
            schedule_id = id, cron = "0 3 * * *", timezone = "Europe/Berlin", job = new { prompt = "nightly", recipe_name = "echo" },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var page = await fixture.NewPageAsync();
        var row = page.Locator($"#schedules tr[data-schedule-id='{id}']");

        await page.GotoAsync($"{fixture.Url}/dashboard#/schedules");
        await Expect(row).ToContainTextAsync("0 3 * * * (Europe/Berlin)");
        await Expect(row).ToContainTextAsync("0 / 0");
        await row.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await Expect(page.Locator("#schedule-message")).ToHaveTextAsync($"{id}: paused");
        await Expect(row.GetByRole(AriaRole.Button, new() { Name = "Resume" })).ToBeVisibleAsync();
        Assert.True((bool)(await Http.GetFromJsonAsync<JsonObject>($"/api/v1/schedules/{id}"))!["paused"]!);

        await row.GetByRole(AriaRole.Button, new() { Name = "Run now" }).ClickAsync();
        await Expect(page.Locator("#schedule-message")).ToContainTextAsync($"{id}: submitted run_");
        await Expect(row).ToContainTextAsync("1 / 0");
        var jobId = (string)(await Http.GetFromJsonAsync<JsonObject>($"/api/v1/schedules/{id}"))!["last_job_id"]!;
        await row.GetByRole(AriaRole.Link).ClickAsync(); // the last run opens its job
        await Expect(page.Locator("#job-id")).ToHaveTextAsync(jobId);
        await Expect(page.Locator("#job-schedule")).ToHaveTextAsync(id);

        await page.GotoAsync($"{fixture.Url}/dashboard#/schedules");
        await row.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync(); // the confirmation is accepted
        await Expect(row).ToHaveCountAsync(0);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync($"/api/v1/schedules/{id}")).StatusCode);
    }

    [Fact]
    public async Task KeysPage_CountsAKeysRunningAndWaitingJobs_AndAWaitingJobSaysWhatItWaitsFor()
    {
        var key = "dash-key-" + Guid.NewGuid().ToString("N")[..12];
        var body = new { prompt = "", recipe_name = "wait", recipe_config = new { seconds = 600, steps = 1 }, concurrency_key = key, concurrency_limit = 1, priority = 7 };
        var jobs = new List<string>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                jobs.Add(await Http.SubmitJobAsync(body));
            }

            await Http.UntilStatusAsync(jobs[0], "running");
            var page = await fixture.NewPageAsync();
            await page.GotoAsync($"{fixture.Url}/dashboard#/keys");
            var cells = page.Locator($"#keys tr[data-key='{key}'] td");
            await Expect(cells).ToHaveTextAsync([key, "1", "2", "1", "none"]);

            await page.GotoAsync($"{fixture.Url}/dashboard#/jobs/{jobs[2]}");
            await Expect(page.Locator("#job-waiting")).ToContainTextAsync("a lease of its concurrency key");
            await Expect(page.Locator("#job-key")).ToHaveTextAsync(key);
            await Expect(page.Locator("#job-priority")).ToHaveTextAsync("7");
        }
        finally
        {
            foreach (var job in jobs)
            {
                using var _ = await Http.PostAsync($"/api/v1/runs/{job}/cancel", null);
            }
        }
    }

    [Fact]
    public async Task JobPages_ShowAChildsParentsAndAParentsDependants_WithTheirStatuses()
    {
        var done = await Http.SubmitJobAsync(new { prompt = "first", recipe_name = "echo" });
        await Http.UntilStatusAsync(done, "succeeded");
        var live = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "wait", recipe_config = new { seconds = 600, steps = 1 } });
        var child = await Http.SubmitJobAsync(new { prompt = "after", recipe_name = "echo", depends_on = new[] { done, live } });
        try
        {
            await Http.UntilStatusAsync(live, "running");
            var page = await fixture.NewPageAsync();
            await page.GotoAsync($"{fixture.Url}/dashboard#/jobs/{child}");
            await Expect(page.Locator("#job-waiting")).ToContainTextAsync("the jobs it depends on: 1 of 2 not ended yet (run_if: succeeded)");
            await Expect(page.Locator($"#job-parents tr[data-job-id='{done}'] td")).ToHaveTextAsync([done, "succeeded"]);
            await Expect(page.Locator($"#job-parents tr[data-job-id='{live}'] td")).ToHaveTextAsync([live, "running"]);

            await page.GotoAsync($"{fixture.Url}/dashboard#/jobs/{live}");
            await Expect(page.Locator($"#job-dependants tr[data-job-id='{child}'] td")).ToHaveTextAsync([child, "queued"]);
            await Expect(page.Locator("#job-parents-info")).ToHaveTextAsync("none");
        }
        finally
        {
            using var _ = await Http.PostAsync($"/api/v1/runs/{live}/cancel", null);
        }

        await Http.UntilStatusAsync(child, "cancelled"); // its parent was cancelled
    }

    private static ILocator Row(IPage page, string jobId) => page.Locator($"#jobs tr[data-job-id='{jobId}']");

    private static string NewSession() => "dashboard-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task BatchPage_CountsItsJobsAsTheyEnd_ListsThem_AndAJobLinksToItsBatch()
    {
        // Its jobs wait for a long job outside it; cancelling that one lets them run.
        var live = await Http.SubmitJobAsync(new { prompt = "", recipe_name = "wait", recipe_config = new { seconds = 600, steps = 1 } });
        var gated = new { prompt = "x", recipe_name = "echo", depends_on = new[] { live }, run_if = "finished" };
        using var response = await Http.PostAsJsonAsync("/api/v1/batches", new { jobs = new[] { gated, gated, gated }, then = new { prompt = "after", recipe_name = "echo" } });
        var created = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        var (batchId, then) = ((string)created["batch_id"]!, (string)created["then_job_id"]!);
        var jobs = created["job_ids"]!.AsArray().Select(id => (string)id!).ToList();
        try
        {
            var page = await fixture.NewPageAsync();
            await page.GotoAsync($"{fixture.Url}/dashboard#/batches/{batchId}");
            await Expect(page.Locator("#batch-id")).ToHaveTextAsync(batchId);
            await Expect(page.Locator("#batch-ended")).ToHaveTextAsync("0 of 3");
            await Expect(page.Locator("#batch-then")).ToHaveTextAsync(then);
            await Expect(page.Locator("#batch-jobs tbody tr")).ToHaveCountAsync(3);
            await Expect(page.Locator($"#batch-jobs tr[data-job-id='{jobs[0]}'] td").First).ToHaveTextAsync(jobs[0]);

            using (var cancel = await Http.PostAsync($"/api/v1/runs/{live}/cancel", null))
            {
                Assert.Equal(HttpStatusCode.OK, cancel.StatusCode); // the stream moves the counts, without a reload
            }

            await Expect(page.Locator("#batch-ended")).ToHaveTextAsync("3 of 3");
            await Expect(page.Locator("#batch-status")).ToHaveTextAsync("succeeded");
            await Expect(page.Locator("#batch-counts")).ToContainTextAsync("succeeded 3");

            await page.GotoAsync($"{fixture.Url}/dashboard#/jobs/{jobs[1]}");
            await Expect(page.Locator("#job-batch")).ToHaveTextAsync(batchId);
            await page.Locator("#job-batch a").ClickAsync();
            await Expect(page.Locator("#batch-id")).ToHaveTextAsync(batchId);
        }
        finally
        {
            using var _ = await Http.PostAsync($"/api/v1/runs/{live}/cancel", null);
        }
    }
}
