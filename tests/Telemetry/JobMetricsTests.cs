using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Praison.Orleans.Grains.Telemetry;

namespace Praison.Orleans.Tests.Telemetry;

/// <summary>A cluster of one silo whose job metrics a test reads alone.</summary>
public sealed class MetricsClusterFixture : JobsClusterFixture
{
    protected override int SiloCount => 1;
}

/// <summary>The jobs' meter counts what happened: a known mix of jobs gives exactly its counts.</summary>
public sealed class JobMetricsTests(MetricsClusterFixture fixture) : IClassFixture<MetricsClusterFixture>, IDisposable
{
    private readonly ConcurrentQueue<(string Instrument, double Value, Dictionary<string, string?> Tags)> _measured = new();
    private MeterListener? _listener;

    [Fact]
    public async Task AKnownMixOfJobs_IsCountedExactly()
    {
        // Only this silo's meter: other test clusters in this process have meters of the same name.
        var silo = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IMeterFactory>();
        Listen(silo);
        var scope = ProbeLedger.NewScope();
        var jobs = new List<IJobGrain>();
        for (var i = 0; i < 5; i++)
        {
            jobs.Add(await SubmitAsync(Specs.Recipe("echo")));
        }

        for (var i = 0; i < 2; i++)
        {
            jobs.Add(await SubmitAsync(Specs.Recipe("wait", """{"seconds":0,"steps":1,"fail":"boom"}""")));
        }

        var timedOut = await SubmitAsync(Specs.Probe(scope, timeoutSeconds: 1));
        var cancelled = await SubmitAsync(Specs.Probe(scope));
        await Eventually.Until(() => ProbeLedger.Runs(scope).Count == 2, "both probes to start");
        await cancelled.CancelAsync();
        foreach (var job in jobs.Append(timedOut).Append(cancelled))
        {
            await job.UntilTerminal();
        }

        await Eventually.Until(() => Sum("praison.jobs.ended") == 9, "nine ends to be counted");
        Assert.Equal(5, Sum("praison.jobs.submitted", ("kind", "echo")));
        Assert.Equal(2, Sum("praison.jobs.submitted", ("kind", "wait")));
        Assert.Equal(2, Sum("praison.jobs.submitted", ("kind", "probe")));
        Assert.Equal(9, Sum("praison.jobs.started"));
        Assert.Equal(0, Sum("praison.jobs.resumed"));
        Assert.Equal(5, Sum("praison.jobs.ended", ("status", "succeeded")));
        Assert.Equal(3, Sum("praison.jobs.ended", ("status", "failed")));
        Assert.Equal(1, Sum("praison.jobs.ended", ("status", "cancelled")));
        Assert.Equal(9, _measured.Count(m => m.Instrument == "praison.jobs.queue_wait"));
        Assert.Equal(9, _measured.Count(m => m.Instrument == "praison.jobs.run_duration"));
    }

    [Fact]
    public async Task JobsWaitingForTheirParents_AreCountedAsWaitingForDependsOn_UntilTheyMayRun()
    {
        var silo = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IMeterFactory>();
        Listen(silo);
        var (scope, gate) = (ProbeLedger.NewScope(), Guid.NewGuid().ToString("N"));
        var parent = fixture.NewJob(out var parentId);
        Assert.Equal(SubmitStatus.Accepted, (await parent.SubmitAsync(Specs.GatedProbe(scope, gate))).Status);
        var children = new[] { await SubmitAsync(Specs.Recipe("echo") with { DependsOn = [parentId] }), await SubmitAsync(Specs.Recipe("echo") with { DependsOn = [parentId] }) };

        await Eventually.Until(() => Task.FromResult(WaitingFor("depends_on")), waiting => waiting == 2, "two jobs counted waiting for their parent");
        ProbeLedger.Open(gate);
        foreach (var child in children)
        {
            Assert.Equal(JobStatus.Succeeded, (await child.UntilTerminal())!.Status);
        }

        Assert.Equal(0, WaitingFor("depends_on"));
    }

    /// <summary>The gauge <c>praison.jobs.waiting</c> for <paramref name="reason"/>, read now.</summary>
    private double WaitingFor(string reason)
    {
        var before = _measured.Count;
        _listener!.RecordObservableInstruments();
        return _measured.Skip(before).Last(m => m.Instrument == "praison.jobs.waiting" && m.Tags.GetValueOrDefault("reason") == reason).Value;
    }

    public void Dispose() => _listener?.Dispose();

    private async Task<IJobGrain> SubmitAsync(JobSpec spec)
    {
        var job = fixture.NewJob(out _);
        Assert.Equal(SubmitStatus.Accepted, (await job.SubmitAsync(spec)).Status);
        return job;
    }

    private void Listen(IMeterFactory silo)
    {
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == JobMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, silo))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var byName = new Dictionary<string, string?>();
        foreach (var tag in tags)
        {
            byName[tag.Key] = tag.Value?.ToString();
        }

        _measured.Enqueue((instrument.Name, value, byName));
    }

    private double Sum(string instrument, (string Key, string Value)? tag = null) =>
        _measured.Where(m => m.Instrument == instrument && (tag is not { } t || m.Tags.GetValueOrDefault(t.Key) == t.Value)).Sum(m => m.Value);
}
