using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Praison.Orleans.Gateway.Runs;

/// <summary>
/// Turns a job's <see cref="IJobGrain.WatchAsync"/> into the SSE events of the README's API section: <c>status</c>,
/// <c>progress</c>, a <c>heartbeat</c> after <see cref="HeartbeatAfter"/> without another event, and one
/// final <c>result</c>, <c>error</c> or <c>cancelled</c>, after which the stream ends. When the watch
/// breaks (the job's silo died, the grain moved) it watches again from the last id it sent, so the
/// client sees neither a repeat nor a gap.
/// </summary>
internal sealed partial class RunEventStream(IOptions<JsonOptions> json, ILogger<RunEventStream> logger)
{
    public static readonly TimeSpan HeartbeatAfter = TimeSpan.FromSeconds(5);

    private const int MaxRewatches = 20;

    private JsonSerializerOptions JsonOptions => json.Value.SerializerOptions;

    public async IAsyncEnumerable<SseItem<string>> ReadAsync(
        IJobGrain job, string jobId, long afterEventId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var events = Channel.CreateBounded<JobEvent>(new BoundedChannelOptions(256) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pump = PumpAsync(job, jobId, afterEventId, events.Writer, stop.Token);
        try
        {
            while (await WaitAsync(events.Reader, stop.Token) is var next && next != Next.Done)
            {
                if (next == Next.Idle)
                {
                    yield return Item("heartbeat", new { timestamp = DateTimeOffset.UtcNow }, null);
                    continue;
                }

                while (events.Reader.TryRead(out var e))
                {
                    yield return ToItem(e, jobId);
                    if (e.IsFinal)
                    {
                        yield break;
                    }
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            await pump;
        }
    }

    private enum Next
    {
        Events,
        Idle,
        Done,
    }

    private static async Task<Next> WaitAsync(ChannelReader<JobEvent> reader, CancellationToken cancellationToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(HeartbeatAfter);
        try
        {
            return await reader.WaitToReadAsync(idle.Token) ? Next.Events : Next.Done;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Next.Idle;
        }
        catch (OperationCanceledException)
        {
            return Next.Done;
        }
    }

    /// <summary>Copies the grain's events into <paramref name="writer"/>, watching again after a break.</summary>
    private async Task PumpAsync(
        IJobGrain job, string jobId, long afterEventId, ChannelWriter<JobEvent> writer, CancellationToken cancellationToken)
    {
        var last = afterEventId;
        try
        {
            for (var rewatch = 0; rewatch <= MaxRewatches; rewatch++)
            {
                try
                {
                    await foreach (var e in job.WatchAsync(last, cancellationToken).WithCancellation(cancellationToken))
                    {
                        await writer.WriteAsync(e, cancellationToken);
                        last = e.Id;
                        rewatch = 0;
                        if (e.IsFinal)
                        {
                            return;
                        }
                    }

                    return; // the job is gone (deleted)
                }
                catch (Exception exception) when (exception is EnumerationAbortedException or OrleansException or TimeoutException
                                                  && !cancellationToken.IsCancellationRequested)
                {
                    LogRewatch(logger, exception, jobId, last);
                    await Task.Delay(TimeSpan.FromMilliseconds(100 * (rewatch + 1)), cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away or the stream ended.
        }
        finally
        {
            writer.TryComplete();
        }
    }

    private SseItem<string> ToItem(JobEvent e, string jobId) => e.Kind switch
    {
        JobEventKind.Status => Item("status", new { status = e.Status.ToWireName(), job_id = jobId }, e.Id),
        JobEventKind.Progress => Item("progress", new { percentage = e.Percentage, step = e.Step ?? "" }, e.Id), // "" as PraisonAI, never null
        JobEventKind.Result => Item("result", new { result = e.Text }, e.Id),
        JobEventKind.Error => Item("error", new { error = e.Text }, e.Id),
        _ => Item("cancelled", new { message = e.Text }, e.Id),
    };

    private SseItem<string> Item<T>(string type, T data, long? id) =>
        new(JsonSerializer.Serialize(data, JsonOptions), type) { EventId = id?.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    [LoggerMessage(Level = LogLevel.Information, Message = "Stream of {JobId} broke after event {LastEventId}; watching again")]
    private static partial void LogRewatch(ILogger logger, Exception exception, string jobId, long lastEventId);
}
