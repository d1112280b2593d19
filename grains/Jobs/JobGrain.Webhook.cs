using Praison.Orleans.Grains.Telemetry;
using Praison.Orleans.Grains.Webhooks;

namespace Praison.Orleans.Grains.Jobs;

/// <summary>
/// The terminal-state webhook: delivered by <see cref="WebhookSender"/> once the terminal state is
/// stored, its outcome stored in the record. Pending in the record until then, so a lost activation's
/// delivery is sent again by the next activation or the sweep. A round that fails for a reason that may
/// change is tried again by the first sweep after its next round's time (kept in the index entry, so the
/// sweep does not visit it before), with growing gaps, until <see cref="WebhookOptions.RetryHorizon"/>
/// after the job ended; between rounds the activation goes, as a settled one does.
/// </summary>
public sealed partial class JobGrain
{
    private CancellationTokenSource? _webhookStop;
    private Task? _webhook;

    /// <summary>Starts delivering the pending webhook, unless none is pending or a delivery is under way.</summary>
    private void StartWebhookDelivery()
    {
        if (Current is not { WebhookPending: true } record || !record.Status.IsTerminal() || _webhook is { IsCompleted: false }
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
            var payload = webhooks.PayloadOf(
                JobId, record.Status, record.ResultJson, record.Error, record.StartedAt, record.CompletedAt, record.Spec.ApiBaseUrl);
            var round = await webhooks.DeliverAsync(record.Spec.WebhookUrl!, payload, stop);
            if (stop.IsCancellationRequested || !Exists)
            {
                return;
            }

            var now = time.GetUtcNow();
            var nextRoundAt = round.WasDelivered ? null : webhooks.NextRoundAt(round, record.WebhookRounds + 1, record.CompletedAt ?? now, now);
            await TransitionAsync(stored => JobTransitions.WebhookRound(stored, round.Error, nextRoundAt, now));
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
