using System.Text.Json;
using Praison.Orleans.Bench;

// Starts what it measures on loopback, runs bounded load, stops everything, prints a table and writes JSON.
if (args is ["serve", var kind, .. var rest])
{
    await OutOfProcess.ServeAsync(kind, rest); // a baseline in its own process, for the wrk scenario
    return;
}

var options = BenchOptions.Parse(args);
var scenarios = new Scenarios(options);
var results = new List<Measurement>();

// Scale first: it reports the process's peak working set, which the other scenarios would raise.
foreach (var (name, run) in new (string, Func<Task<List<Measurement>>>)[]
{
    ("scale", scenarios.ScaleAsync), ("submit", scenarios.SubmitAsync), ("wrk", scenarios.SubmitOutOfProcessAsync), ("e2e", scenarios.EndToEndAsync),
    ("cancel", scenarios.CancelAsync), ("prompt", scenarios.BigPromptAsync), ("persistent", scenarios.PersistentAsync), ("scaleout", scenarios.ScaleOutAsync),
    ("durable", scenarios.DurableAsync), ("flow", scenarios.FlowAsync), ("depends", scenarios.DependenciesAsync),
    ("batch", scenarios.BatchesAsync), ("client", scenarios.ClientOverheadAsync),
})
{
    if (options.Runs(name))
    {
        Console.WriteLine($"running {name}...");
        results.AddRange(await run());
    }
}

Console.WriteLine($"cores: {Environment.ProcessorCount}; window {options.Duration.TotalSeconds:0} s after {options.WarmUp.TotalSeconds:0} s warm-up; concurrency {options.Concurrency}");
Console.WriteLine($"| {"measurement",-45} | {"count",7} | {"errors",6} | {"per s",9} | {"p50 ms",8} | {"p99 ms",8} | {"CPU ms/req",10} | {"KB/req",8} |");
Console.WriteLine($"|{new string('-', 47)}|{new string('-', 9)}|{new string('-', 8)}|{new string('-', 11)}|{new string('-', 10)}|{new string('-', 10)}|{new string('-', 12)}|{new string('-', 10)}|");
foreach (var m in results)
{
    Console.WriteLine($"| {m.Name,-45} | {m.Count,7} | {m.Errors,6} | {m.PerSecond,9:0.0} | {m.P50Ms,8:0.00} | {m.P99Ms,8:0.00} | {m.CpuMsPerRequest,10:0.000} | {m.AllocatedKbPerRequest,8:0.0} |");
}

var figures = Ratios(results).Concat(scenarios.Figures).ToDictionary();
foreach (var (name, figure) in figures)
{
    Console.WriteLine($"{name}: {figure:0.00}");
}

await File.WriteAllTextAsync(options.Output, JsonSerializer.Serialize(
    new { cores = Environment.ProcessorCount, options.Scenario, duration_s = options.Duration.TotalSeconds, options.Concurrency, results, figures },
    new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
Console.WriteLine($"written to {Path.GetFullPath(options.Output)}");

static Dictionary<string, double> Ratios(List<Measurement> results)
{
    double Rate(string prefix) => results.FirstOrDefault(r => r.Name.StartsWith(prefix, StringComparison.Ordinal))?.PerSecond ?? double.NaN;
    var ours = Rate("submit: praison");
    Measurement? Row(string prefix) => results.FirstOrDefault(r => r.Name.StartsWith(prefix, StringComparison.Ordinal));
    var (praison, bare) = (Row("submit: praison (embedded)"), Row("submit: bare Kestrel"));
    return new Dictionary<string, double>
    {
        ["submit rate praison / bare Kestrel"] = ours / Rate("submit: bare Kestrel"),
        ["submit rate praison / Hangfire"] = ours / Rate("submit: Hangfire"),
        ["wrk: submit rate praison / bare Kestrel"] = Rate("submit (wrk, out of process): praison") / Rate("submit (wrk, out of process): bare Kestrel"),
        ["wrk: submit rate praison / Hangfire"] = Rate("submit (wrk, out of process): praison") / Rate("submit (wrk, out of process): Hangfire"),
        ["wrk: praison's first 10 s after start / its steady rate"] = Rate("submit (wrk, first 10 s after start): praison") / Rate("submit (wrk, out of process): praison"),
        // What an echo job costs the server, submit to success: our row less the harness's own share (the bare row).
        ["echo job CPU ms, net of the harness"] = (praison?.CpuMsPerRequest ?? double.NaN) - (bare?.CpuMsPerRequest ?? double.NaN),
        ["echo job KB allocated, net of the harness"] = (praison?.AllocatedKbPerRequest ?? double.NaN) - (bare?.AllocatedKbPerRequest ?? double.NaN),
    }.Where(r => !double.IsNaN(r.Value)).ToDictionary();
}
