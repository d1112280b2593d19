using System.Diagnostics;

namespace Praison.Orleans.Bench;

/// <summary>
/// What one measured load produced: rate and latency percentiles over the measured window, and this
/// process's CPU time and allocations over that window per request answered (the harness's own load
/// generator included: compare with the bare-Kestrel row, which is that part alone).
/// </summary>
public sealed record Measurement(
    string Name, int Count, int Errors, double PerSecond, double P50Ms, double P99Ms, double CpuMsPerRequest = double.NaN,
    double AllocatedKbPerRequest = double.NaN)
{
    public static Measurement From(string name, List<double> latenciesMs, int errors, TimeSpan window, ProcessCost? cost = null)
    {
        latenciesMs.Sort();
        var count = Math.Max(latenciesMs.Count, 1);
        return new Measurement(name, latenciesMs.Count, errors, latenciesMs.Count / window.TotalSeconds,
            Percentile(latenciesMs, 0.50), Percentile(latenciesMs, 0.99),
            cost is null ? double.NaN : cost.CpuMs / count, cost is null ? double.NaN : cost.AllocatedBytes / 1024.0 / count);
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}

/// <summary>
/// The one load generator every system is measured with: a fixed number of workers, each sending its
/// next request as soon as the last one answered, for a warm-up (not counted) and then a bounded window.
/// </summary>
public static class LoadGenerator
{
    /// <summary>This process's CPU time and allocated bytes so far.</summary>
    private static (TimeSpan Cpu, long Allocated) Spent() =>
        (Process.GetCurrentProcess().TotalProcessorTime, GC.GetTotalAllocatedBytes(precise: false));

    public static async Task<Measurement> RunAsync(
        string name, int concurrency, TimeSpan warmUp, TimeSpan window, Func<CancellationToken, Task<bool>> request)
    {
        var latencies = new List<double>[concurrency];
        var errors = 0;
        var clock = Stopwatch.StartNew();
        var measureFrom = warmUp;
        var stopAt = warmUp + window;
        using var stop = new CancellationTokenSource(stopAt + TimeSpan.FromSeconds(30));
        var cost = MeasureCostAsync(clock, measureFrom, stopAt);
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(worker => Task.Run(async () =>
        {
            var mine = latencies[worker] = [];
            while (clock.Elapsed < stopAt)
            {
                var started = clock.Elapsed;
                bool ok;
                try
                {
                    ok = await request(stop.Token);
                }
                catch (Exception)
                {
                    ok = false; // counted below only when inside the window
                }

                var ended = clock.Elapsed;
                if (started < measureFrom || ended > stopAt)
                {
                    continue;
                }

                if (ok)
                {
                    mine.Add((ended - started).TotalMilliseconds);
                }
                else
                {
                    Interlocked.Increment(ref errors);
                }
            }
        })));
        return Measurement.From(name, latencies.SelectMany(l => l).ToList(), errors, window, await cost);
    }

    /// <summary>CPU time and allocations of this process from <paramref name="from"/> to <paramref name="to"/> on <paramref name="clock"/>.</summary>
    private static async Task<ProcessCost> MeasureCostAsync(Stopwatch clock, TimeSpan from, TimeSpan to)
    {
        await Task.Delay(from - clock.Elapsed is { Ticks: > 0 } wait ? wait : TimeSpan.Zero);
        var start = Spent();
        await Task.Delay(to - clock.Elapsed is { Ticks: > 0 } rest ? rest : TimeSpan.Zero);
        var end = Spent();
        return new ProcessCost((end.Cpu - start.Cpu).TotalMilliseconds, end.Allocated - start.Allocated);
    }
}

/// <summary>CPU milliseconds and bytes allocated by this process over a measured window.</summary>
public sealed record ProcessCost(double CpuMs, long AllocatedBytes);
