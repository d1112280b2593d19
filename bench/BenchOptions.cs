namespace Praison.Orleans.Bench;

/// <summary>
/// The harness's command line: <c>all|submit|wrk|e2e|cancel|prompt|scale|persistent|scaleout|durable|flow [--duration S]
/// [--concurrency N] [--cancels N] [--jobs N] [--steps N] [--out FILE]</c>. <c>--steps</c>: the scale
/// scenario's jobs are instant <c>wait</c> jobs of that many progress steps instead of <c>echo</c> jobs.
/// </summary>
public sealed record BenchOptions(string Scenario, TimeSpan Duration, TimeSpan WarmUp, int Concurrency, int Cancels, int Jobs, string Output, int Steps = 0)
{
    private static readonly string[] Scenarios = ["all", "scale", "submit", "wrk", "e2e", "cancel", "prompt", "persistent", "scaleout", "durable", "flow", "depends", "batch", "client"];

    /// <summary>Whether this run includes <paramref name="scenario"/>.</summary>
    public bool Runs(string scenario) => Scenario == "all" || Scenario == scenario;

    public static BenchOptions Parse(string[] args)
    {
        string Value(string name, string fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }

        var scenario = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "all";
        if (!Scenarios.Contains(scenario))
        {
            throw new ArgumentException($"Unknown scenario '{scenario}': use {string.Join(", ", Scenarios)}.");
        }

        var duration = TimeSpan.FromSeconds(double.Parse(Value("--duration", "20"), System.Globalization.CultureInfo.InvariantCulture));
        return new BenchOptions(
            scenario,
            duration,
            TimeSpan.FromSeconds(Math.Min(5, duration.TotalSeconds / 4)),
            int.Parse(Value("--concurrency", "32"), System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(Value("--cancels", "200"), System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(Value("--jobs", "100000"), System.Globalization.CultureInfo.InvariantCulture),
            Value("--out", "bench-results.json"),
            int.Parse(Value("--steps", "0"), System.Globalization.CultureInfo.InvariantCulture));
    }
}
