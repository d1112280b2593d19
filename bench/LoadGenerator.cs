using System.Diagnostics;

namespace Praison.Orleans.Bench;

/// <summary>What one measured load produced: rate and latency percentiles over the measured window.</summary>
public sealed record Measurement(string Name, int Count, int Errors, double PerSecond, double P50Ms, double P99Ms)
{
    public static Measurement From(string name, List<double> latenciesMs, int errors, TimeSpan window)
    {
        latenciesMs.Sort();
        return new Measurement(name, latenciesMs.Count, errors, latenciesMs.Count / window.TotalSeconds,
            Percentile(latenciesMs, 0.50), Percentile(latenciesMs, 0.99));
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
    public static async Task<Measurement> RunAsync(
        string name, int concurrency, TimeSpan warmUp, TimeSpan window, Func<CancellationToken, Task<bool>> request)
    {
        var latencies = new List<double>[concurrency];
        var errors = 0;
        var clock = Stopwatch.StartNew();
        var measureFrom = warmUp;
        var stopAt = warmUp + window;
        using var stop = new CancellationTokenSource(stopAt + TimeSpan.FromSeconds(30));
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
        return Measurement.From(name, latencies.SelectMany(l => l).ToList(), errors, window);
    }
}
