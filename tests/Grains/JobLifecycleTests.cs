using System.Text.Json;
using Praison.Orleans.Grains.Llm;

namespace Praison.Orleans.Tests.Grains;

[Collection(JobsClusterCollection.Name)]
public sealed class JobLifecycleTests(JobsClusterFixture fixture)
{
    [Fact]
    public async Task Submit_EchoJob_QueuesThenSucceedsWithPromptAsResult()
    {
        var job = fixture.NewJob(out var jobId);

        var reply = await job.SubmitAsync(Specs.Recipe("echo", prompt: "hello grains"));

        Assert.Equal(SubmitStatus.Accepted, reply.Status);
        Assert.Equal(JobStatus.Queued, reply.Job!.Status);
        Assert.Equal(jobId, reply.Job.JobId);
        var done = await job.UntilTerminal();
        Assert.Equal(JobStatus.Succeeded, done!.Status);
        Assert.Equal(100, done.Progress.Percentage);
        Assert.Equal(1, done.Attempt);
        Assert.Equal("recipe:echo", done.AgentId);
        Assert.NotNull(done.StartedAt);
        Assert.True(done.CompletedAt >= done.StartedAt);
        var result = await job.GetResultAsync();
        Assert.Equal(JobCommandStatus.Done, result.Status);
        Assert.Equal("hello grains", JsonSerializer.Deserialize<string>(result.Outcome!.ResultJson!));
    }

    [Fact]
    public async Task ManyInstantJobs_AllSucceedWithoutWaitingForRecovery()
    {
        // Echo can finish before the grain starts waiting on it; that must not fail the run loop
        // (the job would then hang as running until the sweep resumed it).
        var jobs = Enumerable.Range(0, 300).Select(_ => fixture.NewJob(out string _)).ToList();

        await Task.WhenAll(jobs.Select(job => job.SubmitAsync(Specs.Recipe("echo"))));

        foreach (var job in jobs)
        {
            Assert.Equal(JobStatus.Succeeded, (await job.UntilTerminal(TimeSpan.FromSeconds(30)))!.Status);
        }
    }

    [Fact]
    public async Task Submit_ExistingId_ChangesNothing()
    {
        var job = fixture.NewJob(out _);
        await job.SubmitAsync(Specs.Recipe("echo", prompt: "first"));
        await job.UntilStatus(JobStatus.Succeeded);

        var again = await job.SubmitAsync(Specs.Recipe("echo", prompt: "second"));

        Assert.Equal(SubmitStatus.IdTaken, again.Status);
        var result = await job.GetResultAsync();
        Assert.Equal("first", JsonSerializer.Deserialize<string>(result.Outcome!.ResultJson!));
    }

    [Fact]
    public async Task Submit_UnknownRecipe_IsRejectedAndStoresNothing()
    {
        var job = fixture.NewJob(out _);

        var reply = await job.SubmitAsync(Specs.Recipe("no-such-recipe"));

        Assert.Equal(SubmitStatus.Rejected, reply.Status);
        Assert.Equal("recipe_name", reply.Field);
        Assert.Contains("no-such-recipe", reply.Error);
        Assert.Null(await job.GetStatusAsync());
    }

    [Fact]
    public async Task Submit_BadRecipeConfig_IsRejectedNamingTheSetting()
    {
        var job = fixture.NewJob(out _);

        var reply = await job.SubmitAsync(Specs.Recipe("wait", """{"seconds":"soon"}"""));

        Assert.Equal(SubmitStatus.Rejected, reply.Status);
        Assert.Equal("recipe_config", reply.Field);
        Assert.Contains("seconds", reply.Error);
        Assert.Null(await job.GetStatusAsync());
    }

    [Fact]
    public async Task WaitRecipe_WithFail_EndsFailedWithThatError()
    {
        var job = fixture.NewJob(out _);

        await job.SubmitAsync(Specs.Recipe("wait", """{"seconds":0.1,"steps":2,"fail":"boom on purpose"}"""));

        var done = await job.UntilTerminal();
        Assert.Equal(JobStatus.Failed, done!.Status);
        Assert.Equal("boom on purpose", done.Error);
        var result = await job.GetResultAsync();
        Assert.Null(result.Outcome!.ResultJson);
    }

    [Fact]
    public async Task PromptOnlyJob_WithoutLlm_FailsNamingTheVariables()
    {
        var job = fixture.NewJob(out _);

        await job.SubmitAsync(Specs.PromptOnly("write a haiku"));

        var done = await job.UntilTerminal();
        Assert.Equal(JobStatus.Failed, done!.Status);
        Assert.Equal(LlmClient.NotConfigured, done.Error);
        Assert.Contains("OPENAI_API_KEY", done.Error);
        Assert.Contains("OPENAI_BASE_URL", done.Error);
        Assert.Contains("OPENAI_MODEL_NAME", done.Error);
    }

    [Fact]
    public async Task Timeout_RunningJob_FiresTokenAndFailsWithSpecMessage()
    {
        var scope = ProbeLedger.NewScope();
        var job = fixture.NewJob(out var jobId);

        await job.SubmitAsync(Specs.Probe(scope, timeoutSeconds: 1));

        var done = await job.UntilTerminal();
        Assert.Equal(JobStatus.Failed, done!.Status);
        Assert.Equal("Job timed out after 1s", done.Error);
        var run = Assert.Single(ProbeLedger.Runs(scope));
        Assert.Equal(jobId, run.JobId);
        await Eventually.Until(() => run.CancelObservedAt is not null, "the probe to observe its token");
        var ranFor = run.CancelObservedAt!.Value - run.StartedAt;
        Assert.InRange(ranFor, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Progress_WhileRunning_NeverGoesBackwardsAndEndsAt100()
    {
        var job = fixture.NewJob(out _);
        await job.SubmitAsync(Specs.Recipe("wait", """{"seconds":1.5,"steps":15}"""));
        var seen = new List<JobProgress>();

        var done = await Eventually.Until(
            async () =>
            {
                var snapshot = await job.GetStatusAsync();
                seen.Add(snapshot!.Progress);
                return snapshot;
            },
            s => s!.Status.IsTerminal(),
            "the wait job to finish");

        Assert.Equal(JobStatus.Succeeded, done!.Status);
        Assert.True(seen.Count(p => p.Percentage is > 0 and < 100) >= 2, "saw progress between 0 and 100");
        for (var i = 1; i < seen.Count; i++)
        {
            Assert.True(seen[i].Percentage >= seen[i - 1].Percentage, $"progress went from {seen[i - 1]} to {seen[i]}");
            Assert.True(seen[i].StepsCompleted >= seen[i - 1].StepsCompleted);
        }

        Assert.Equal(new JobProgress(100, "step 15/15", 15, 15), done.Progress);
    }

    [Fact]
    public async Task Delete_TerminalJob_RemovesIt_LiveJob_IsRefused()
    {
        var scope = ProbeLedger.NewScope();
        var live = fixture.NewJob(out _);
        await live.SubmitAsync(Specs.Probe(scope));
        var finished = fixture.NewJob(out _);
        await finished.SubmitAsync(Specs.Recipe("echo"));
        await finished.UntilStatus(JobStatus.Succeeded);

        var refused = await live.DeleteAsync();
        var deleted = await finished.DeleteAsync();

        Assert.Equal(JobCommandStatus.WrongState, refused.Status);
        Assert.NotNull(await live.GetStatusAsync());
        Assert.Equal(JobCommandStatus.Done, deleted.Status);
        Assert.Null(await finished.GetStatusAsync());
        Assert.Equal(JobCommandStatus.NotFound, (await finished.DeleteAsync()).Status);
        Assert.Equal(JobCommandStatus.NotFound, (await finished.GetResultAsync()).Status);
        await live.CancelAsync();
    }

    [Fact]
    public async Task Watchers_ArrivingAsAJobEnds_AlwaysGetItsFinalEvent()
    {
        // A watcher may arrive while the terminal write is in flight: the record already says
        // succeeded, the final events are not published yet. It must wait for them, not end empty.
        var jobs = Enumerable.Range(0, 40).Select(_ => fixture.NewJob(out string _)).ToList();

        var streams = await Task.WhenAll(jobs.Select(async job =>
        {
            await job.SubmitAsync(Specs.Recipe("echo"));
            var events = new List<JobEvent>();
            await foreach (var e in job.WatchAsync(0))
            {
                events.Add(e);
            }

            return events;
        }));

        Assert.All(streams, events => Assert.Equal(JobEventKind.Result, events[^1].Kind));
    }

    [Fact]
    public async Task UnknownJob_AnswersNotFoundEverywhere()
    {
        var job = fixture.NewJob(out _);

        Assert.Null(await job.GetStatusAsync());
        Assert.Equal(JobCommandStatus.NotFound, (await job.GetResultAsync()).Status);
        Assert.Equal(JobCommandStatus.NotFound, (await job.CancelAsync()).Status);
        Assert.Equal(JobCommandStatus.NotFound, (await job.DeleteAsync()).Status);
    }
}
