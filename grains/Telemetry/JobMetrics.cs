using System.Diagnostics.Metrics;
using Praison.Orleans.Grains.Execution;
using Praison.Orleans.Grains.FlowControl;

namespace Praison.Orleans.Grains.Telemetry;

/// <summary>
/// The jobs' own metrics (meter <see cref="MeterName"/>), in OpenTelemetry's naming: jobs submitted,
/// started, resumed and ended (by status), queue wait and run time, webhook deliveries by outcome, and
/// this silo's running jobs, its waiting jobs by what they wait for, and its concurrency key leases. The <c>kind</c> tag is bounded: a registered recipe's name,
/// <c>agents</c> or <c>prompt</c> — never a client-chosen name, which would let a client multiply series.
/// </summary>
public sealed class JobMetrics
{
    public const string MeterName = "Praison.Orleans.Jobs";

    private readonly Counter<long> _submitted;
    private readonly Counter<long> _started;
    private readonly Counter<long> _resumed;
    private readonly Counter<long> _ended;
    private readonly Counter<long> _webhooks;
    private readonly Histogram<double> _queueWait;
    private readonly Histogram<double> _runTime;

    public JobMetrics(IMeterFactory meters, JobSlots slots, KeyLeases keys, JobAdmission admission)
    {
        var meter = meters.Create(MeterName);
        _submitted = meter.CreateCounter<long>("praison.jobs.submitted", "{job}", "Jobs accepted.");
        _started = meter.CreateCounter<long>("praison.jobs.started", "{job}", "Attempts started, first or resumed.");
        _resumed = meter.CreateCounter<long>("praison.jobs.resumed", "{job}", "Attempts started after a lost one (silo died or left).");
        _ended = meter.CreateCounter<long>("praison.jobs.ended", "{job}", "Jobs that reached a terminal status, by status.");
        _webhooks = meter.CreateCounter<long>("praison.webhooks.deliveries", "{delivery}", "Webhook delivery rounds, by outcome.");
        _queueWait = meter.CreateHistogram<double>("praison.jobs.queue_wait", "s", "From submit to the first start.");
        _runTime = meter.CreateHistogram<double>("praison.jobs.run_duration", "s", "From the first start to the end.");
        meter.CreateObservableGauge("praison.jobs.running", () => slots.Running, "{job}", "Jobs holding a slot on this silo.");
        meter.CreateObservableGauge(
            "praison.jobs.waiting",
            () => (Measurement<int>[])
            [
                new(slots.Waiting, Reason(JobWaits.Slot)), new(keys.Waiting, Reason(JobWaits.ConcurrencyKey)),
                new(admission.WaitingForParents, Reason(JobWaits.DependsOn)),
            ],
            "{job}",
            "Jobs of this silo waiting to run, by what they wait for: the jobs they depend on, a lease of their concurrency key or a slot of the silo.");
        meter.CreateObservableGauge("praison.jobs.key_leases", () => keys.Held, "{lease}", "Concurrency key leases this silo's jobs hold.");
    }

    /// <summary>The bounded kind of a job: its recipe, <c>agents</c> or <c>prompt</c>.</summary>
    public static string KindOf(JobSpec spec) =>
        spec.RecipeName ?? (spec.AgentYaml is not null || spec.AgentFile is not null ? "agents" : "prompt");

    public void Submitted(JobSpec spec) => _submitted.Add(1, Kind(spec));

    public void Started(JobSpec spec, int attempt, DateTimeOffset createdAt, DateTimeOffset now)
    {
        _started.Add(1, Kind(spec));
        if (attempt > 1)
        {
            _resumed.Add(1, Kind(spec));
        }
        else
        {
            _queueWait.Record((now - createdAt).TotalSeconds, Kind(spec));
        }
    }

    public void Ended(JobSpec spec, JobStatus status, DateTimeOffset? startedAt, DateTimeOffset endedAt)
    {
        _ended.Add(1, Kind(spec), new("status", status.ToWireName()));
        if (startedAt is { } started)
        {
            _runTime.Record((endedAt - started).TotalSeconds, Kind(spec), new("status", status.ToWireName()));
        }
    }

    /// <summary>A delivery round ended: <c>delivered</c>, <c>retrying</c> (another round will come) or <c>given_up</c>.</summary>
    public void WebhookRound(string outcome) => _webhooks.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    private static KeyValuePair<string, object?> Reason(string reason) => new("reason", reason);

    private static KeyValuePair<string, object?> Kind(JobSpec spec) => new("kind", KindOf(spec));
}
