using Praison.Orleans.Grains.Jobs;

namespace Praison.Orleans.Tests.Grains;

/// <summary>The job state machine (<see cref="JobTransitions"/>) on its own: no cluster, no storage.</summary>
public sealed class JobTransitionsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private readonly JobEventIds _ids = new();

    private JobRecord Queued(string? webhook = null) =>
        JobTransitions.Submit(Specs.Recipe("echo") with { WebhookUrl = webhook }, "echo", null, null, T0, _ids).Next!;

    [Fact]
    public void Submit_MakesAQueuedRecord_AndAnnouncesItsStatusThenItsProgress()
    {
        var submit = JobTransitions.Submit(Specs.Recipe("echo"), "echo", "prepared", "00-trace", T0, _ids);

        var record = submit.Next!;
        Assert.Equal((JobStatus.Queued, 1, T0, "prepared", "00-trace"), (record.Status, record.Epoch, record.CreatedAt, record.Prepared, record.TraceParent));
        Assert.Equal([(JobEventKind.Status, record.StatusEventId), (JobEventKind.Progress, record.ProgressEventId)],
            submit.Events.Select(e => (e.Kind, e.Id)));
        Assert.True(record.StatusEventId < record.ProgressEventId);
    }

    [Fact]
    public void Start_CountsAttempts_KeepsTheFirstStartTime_AndSaysWhenItResumes()
    {
        var first = JobTransitions.Start(Queued(), T0.AddSeconds(1), _ids).Next!;
        var resumed = JobTransitions.Start(first.Copy(), T0.AddSeconds(9), _ids);

        Assert.Equal((JobStatus.Running, 1, T0.AddSeconds(1), "started"), (first.Status, first.Attempt, first.StartedAt, first.Reason));
        Assert.Equal((2, T0.AddSeconds(1)), (resumed.Next!.Attempt, resumed.Next.StartedAt));
        Assert.StartsWith("resumed", resumed.Next.Reason);
        Assert.Equal(JobEventKind.Status, Assert.Single(resumed.Events).Kind);
        Assert.False(JobTransitions.AttemptsExhausted(first, maxAttempts: 2));
        Assert.True(JobTransitions.AttemptsExhausted(resumed.Next, maxAttempts: 2));
    }

    [Fact]
    public void AnEndedJob_RefusesEveryFurtherEnding_AndAStart_AndANewEpoch()
    {
        var failed = JobTransitions.Fail(Queued(), "it broke", "the work failed", JobProgress.None, [], T0, _ids).Next!;

        Assert.All(
            new[]
            {
                JobTransitions.Cancel(failed.Copy(), JobProgress.None, [], T0, _ids),
                JobTransitions.Succeed(failed.Copy(), "1", "{}", JobProgress.None, [], T0, _ids),
                JobTransitions.Fail(failed.Copy(), "again", "again", JobProgress.None, [], T0, _ids),
                JobTransitions.Start(failed.Copy(), T0, _ids),
                JobTransitions.NewEpoch(failed.Copy(), _ids),
            },
            refused => Assert.True(refused.IsRefused && refused.Events.Count == 0 && refused.Refusal is not null, refused.Kind.ToString()));
    }

    [Fact]
    public void Succeed_AnnouncesStatusProgressAndResult_InRisingIds_AndKeepsTheCoalescedHistory()
    {
        var running = JobTransitions.Start(Queued(), T0, _ids);
        var live = new JobProgress(40, "step 4", 4, 10);
        JobEvent[] published = [JobEvents.ProgressEvent(_ids.Next(1), JobStatus.Running, new JobProgress(30, "step 3", 3, 10)),
            JobEvents.ProgressEvent(_ids.Next(1), JobStatus.Running, live)];

        var succeed = JobTransitions.Succeed(running.Next!, "\"done\"", "{}", live, [.. running.Events, .. published], T0.AddSeconds(5), _ids);

        var record = succeed.Next!;
        Assert.Equal((JobStatus.Succeeded, 100.0, "step 4", T0.AddSeconds(5)), (record.Status, record.Progress.Percentage, record.Progress.CurrentStep, record.CompletedAt));
        Assert.Equal([JobEventKind.Status, JobEventKind.Progress, JobEventKind.Result], succeed.Events.Select(e => e.Kind));
        Assert.Equal(succeed.Events.Select(e => e.Id).Order(), succeed.Events.Select(e => e.Id));
        Assert.Equal("done", succeed.Events[^1].Text);
        // Of the run of progress reports only the last is kept; the ending's status and progress follow it.
        Assert.Equal([running.Events[0], published[1], succeed.Events[0], succeed.Events[1]], record.History!);
    }

    [Fact]
    public void AnEndingWhoseProgressWatchersAlreadySaw_AnnouncesNoProgressEvent()
    {
        var running = JobTransitions.Start(Queued(), T0, _ids).Next!;

        var failed = JobTransitions.Fail(running, "timed out", "timed out", running.Progress, [], T0, _ids);

        Assert.Equal([JobEventKind.Status, JobEventKind.Error], failed.Events.Select(e => e.Kind));
        Assert.Equal("timed out", failed.Events[^1].Text);
    }

    [Fact]
    public void Cancel_StampsCancelledAndCompletedAtOnce_AndMakesItsWebhookPending()
    {
        var cancel = JobTransitions.Cancel(Queued("http://127.0.0.1:9/hook"), JobProgress.None, [], T0, _ids);

        var record = cancel.Next!;
        Assert.Equal((JobStatus.Cancelled, T0, T0, true), (record.Status, record.CancelledAt, record.CompletedAt, record.WebhookPending));
        Assert.Equal(JobEventKind.Cancelled, cancel.Events[^1].Kind);
        Assert.False(JobTransitions.Cancel(Queued(), JobProgress.None, [], T0, _ids).Next!.WebhookPending);
    }

    [Fact]
    public void Checkpoint_StoresOnlyProgressThatMovedForward_AndOnlyWhileRunning()
    {
        var running = JobTransitions.Start(Queued(), T0, _ids).Next!;
        var eventId = _ids.Next(1);

        var stored = JobTransitions.Checkpoint(running.Copy(), new JobProgress(50, "half", 5, 10), eventId).Next!;

        Assert.Equal((50.0, eventId), (stored.Progress.Percentage, stored.ProgressEventId));
        Assert.True(JobTransitions.Checkpoint(stored.Copy(), new JobProgress(20, null, 2, null), eventId + 1).IsRefused); // nothing new
        Assert.True(JobTransitions.Checkpoint(Queued(), new JobProgress(50, "half", 5, 10), eventId).IsRefused);
    }

    [Fact]
    public void NewEpoch_RaisesTheEpoch_SoItsIdsFollowEveryIdOfTheLastActivation()
    {
        var running = JobTransitions.Start(Queued(), T0, _ids).Next!;

        var next = JobTransitions.NewEpoch(running.Copy(), new JobEventIds()).Next!; // a new activation counts from one

        Assert.Equal(2, next.Epoch);
        Assert.True(next.StatusEventId > running.StatusEventId && next.ProgressEventId > next.StatusEventId);
    }

    [Fact]
    public void Hide_HappensOnce_AndWebhookRounds_SettleOrComeBackOrGiveUp()
    {
        var ended = JobTransitions.Fail(Queued("http://127.0.0.1:9/hook"), "x", "x", JobProgress.None, [], T0, _ids).Next!;
        var hidden = JobTransitions.Hide(ended.Copy(), "deleted through the API").Next!;
        Assert.True(hidden.Removed);
        Assert.True(JobTransitions.Hide(hidden.Copy(), "again").IsRefused);

        var retrying = JobTransitions.WebhookRound(ended.Copy(), "503", T0.AddMinutes(1), T0).Next!;
        var givenUp = JobTransitions.WebhookRound(retrying.Copy(), "503", null, T0.AddMinutes(1)).Next!;
        var delivered = JobTransitions.WebhookRound(retrying.Copy(), null, null, T0.AddMinutes(1)).Next!;

        Assert.Equal((true, 1, T0.AddMinutes(1), "retrying"), (retrying.WebhookPending, retrying.WebhookRounds, retrying.WebhookRetryAt, JobTransitions.WebhookOutcome(retrying)));
        Assert.Equal((false, 2, null, "given_up"), (givenUp.WebhookPending, givenUp.WebhookRounds, givenUp.WebhookRetryAt, JobTransitions.WebhookOutcome(givenUp)));
        Assert.Equal((false, T0.AddMinutes(1), "delivered"), (delivered.WebhookPending, delivered.WebhookDeliveredAt, JobTransitions.WebhookOutcome(delivered)));
        Assert.True(JobTransitions.WebhookRound(delivered.Copy(), null, null, T0).IsRefused);
    }
}
