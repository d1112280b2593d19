using System.Text.Json.Nodes;
using Praison.Orleans.Grains.Telemetry;
using Praison.Orleans.Grains.Webhooks;

namespace Praison.Orleans.Grains.Jobs; // a part of JobGrain, kept beside the webhook sender it drives

/// <summary>
/// The terminal-state webhook: delivered by <see cref="WebhookSender"/> once the terminal state is
/// stored, its outcome stored in the record. Pending in the record until then, so a lost activation's
/// delivery is sent again by the next activation or the sweep; a round that fails is tried again by a
/// later sweep, with growing gaps, until <see cref="WebhookOptions.RetryHorizon"/> after the job ended.
/// </summary>
public sealed partial class JobGrain
{
    private CancellationTokenSource? _webhookStop;
    private Task? _webhook;

    /// <summary>Starts delivering the pending webhook, unless none is pending or a delivery is under way.</summary>
    private void StartWebhookDelivery()
    {
        if (_stored is not { WebhookPending: true } record || !record.Status.IsTerminal() || _webhook is { IsCompleted: false }
            || record.WebhookRetryAt > time.GetUtcNow())
        {
            return;
        }

        _webhookStop?.Dispose();
        _webhookStop = new CancellationTokenSource();
        _webhook = DeliverWebhookAsync(record, _webhookStop.Token);
    }

    /// <summary>
    /// Sends the terminal-state webhook of <paramref name="record"/> (the sender retries until a 2xx or
    /// its attempts run out) and records how that went. Keeps the activation alive meanwhile; if it goes
    /// away, the record still says pending and the next activation or sweep sends again.
    /// </summary>
    private async Task DeliverWebhookAsync(JobRecord record, CancellationToken stop)
    {
        using var scope = LogScope();
        using var span = JobTracing.StartWebhook(JobId, record.TraceParent);
        using var keepAlive = this.RegisterGrainTimer(
            static _ => Task.CompletedTask,
            new GrainTimerCreationOptions(TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1)) { KeepAlive = true });
        try
        {
            var payload = new WebhookPayload(
                JobId,
                record.Status.ToWireName(),
                record.Status == JobStatus.Succeeded && record.ResultJson is { } json ? JsonNode.Parse(json) : null,
                record.Error,
                record.CompletedAt?.ToApiString(),
                record is { StartedAt: { } started, CompletedAt: { } completed } ? (completed - started).TotalSeconds : null);
            var error = await webhooks.DeliverAsync(record.Spec.WebhookUrl!, payload, stop);
            if (stop.IsCancellationRequested || !Exists)
            {
                return;
            }

            var now = time.GetUtcNow();
            var nextRoundAt = error is null ? null : webhooks.NextRoundAt(error, record.WebhookRounds + 1, record.CompletedAt ?? now, now);
            await UpdateAsync(stored =>
            {
                stored.WebhookPending = nextRoundAt is not null;
                stored.WebhookRounds += error is null ? 0 : 1;
                stored.WebhookRetryAt = nextRoundAt;
                stored.WebhookDeliveredAt = error is null ? now : null;
                stored.WebhookError = error;
                return true;
            });
            var outcome = error is null ? "delivered" : nextRoundAt is null ? "given_up" : "retrying";
            LogWebhook(logger, JobId, outcome, error, nextRoundAt);
            metrics.WebhookRound(outcome);
            if (Record.Removed)
            {
                await FinishRemovalOrDeliverAsync(); // the job was deleted meanwhile: now it can go
            }
            else if (!Record.WebhookPending)
            {
                await IndexAsync(); // settled: no longer due for the sweep
                ReleaseWhenIdle();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Handed over or deleted.
        }
        catch (Exception exception)
        {
            LogWebhookFailed(logger, exception, JobId);
        }
    }
}
