using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Praison.Orleans.Testing;

namespace Praison.Orleans.Bench;

/// <summary>
/// The submit load with the load generator in another process: wrk (Debian's package, installed when
/// missing) against each system run as its own process — ours as the gateway's build output runs
/// (<c>dotnet Praison.Orleans.Gateway.dll</c>, embedded default), the baselines as this harness in its
/// <c>serve</c> role. Each is first loaded for the 10 s right after it answers (a cold start), then
/// warmed up and measured; the server process's CPU time over the measured window, per request, and
/// its resident memory at the end are read from /proc.
/// </summary>
public static partial class OutOfProcess
{
    /// <summary>
    /// Run as a child process: <c>serve bare|hangfire|insert [connection string]</c> starts that baseline
    /// (<c>insert</c>: one committed INSERT per request on that PostgreSQL database), prints its URL,
    /// serves until killed.
    /// </summary>
    public static async Task ServeAsync(string kind, string[] rest)
    {
        var target = (kind, rest) switch
        {
            ("bare", []) => await Targets.StartBareKestrelAsync(),
            ("hangfire", []) => await Targets.StartHangfireAsync(),
            ("insert", [var database]) => await Durable.StartOneInsertAsync(database),
            _ => throw new ArgumentException($"Unknown target '{kind}' {string.Join(' ', rest)}: use bare, hangfire or insert <connection string>."),
        };
        Console.WriteLine($"listening {target.Url}");
        await Task.Delay(Timeout.Infinite); // the harness kills it when done
    }

    /// <summary>wrk against ours, bare Kestrel and Hangfire, one after another, each in its own process.</summary>
    public static async Task<List<Measurement>> SubmitAsync(BenchOptions options, Dictionary<string, double> figures)
    {
        var script = await SubmitScriptAsync();
        var results = new List<Measurement>();
        try
        {
            foreach (var (name, start) in new (string, Func<Task<(ServerProcess, string)>>)[]
            {
                ("praison (gateway process, embedded)", () => StartPraisonAsync()),
                ("bare Kestrel", () => StartServeAsync("bare")),
                ("Hangfire InMemory", () => StartServeAsync("hangfire")),
            })
            {
                var (server, url) = await start();
                await using (server)
                {
                    var row = $"submit (wrk, out of process): {name}";
                    // The first 10 s after the server answers: how fast a fresh process (unoptimised code) is.
                    var cold = await RunWrkAsync(url, script, options.Concurrency, TimeSpan.FromSeconds(10));
                    results.Add(cold.ToMeasurement($"submit (wrk, first 10 s after start): {name}", TimeSpan.FromSeconds(10), TimeSpan.Zero) with
                    {
                        CpuMsPerRequest = double.NaN,
                    });
                    results.Add((await WarmThenMeasureAsync(server, url, script, options, row)).Measured);
                    figures[$"wrk: {name}: server resident MiB at end"] = ResidentBytes(server.Id) / 1048576.0;
                }
            }
        }
        finally
        {
            File.Delete(script);
        }

        return results;
    }

    /// <summary>The wrk script that posts the same echo submit every scenario sends; installs wrk first when missing. The caller deletes it.</summary>
    public static async Task<string> SubmitScriptAsync()
    {
        await EnsureWrkAsync();
        var script = Path.Combine(Path.GetTempPath(), $"praison-bench-{Environment.ProcessId}-{Guid.NewGuid():N}.lua");
        await File.WriteAllTextAsync(script, """
            wrk.method = "POST"
            wrk.body = '{"prompt":"bench","recipe_name":"echo"}'
            wrk.headers["Content-Type"] = "application/json"
            """);
        return script;
    }

    /// <summary>
    /// wrk for the warm-up (not counted), then for the measured window: its rate and latencies, and the
    /// server process's CPU time per answered request over that window; with <paramref name="otherCpu"/>
    /// (e.g. the database server's processes), also what it read over the window, per answered request.
    /// </summary>
    public static async Task<(Measurement Measured, double OtherCpuMsPerRequest)> WarmThenMeasureAsync(
        ServerProcess server, string url, string script, BenchOptions options, string name, Func<TimeSpan>? otherCpu = null)
    {
        otherCpu ??= () => TimeSpan.Zero;
        await RunWrkAsync(url, script, options.Concurrency, options.WarmUp);
        var (before, otherBefore) = (CpuTime(server.Id), otherCpu());
        var measured = await RunWrkAsync(url, script, options.Concurrency, options.Duration);
        var (cpu, other) = (CpuTime(server.Id) - before, otherCpu() - otherBefore);
        var measurement = measured.ToMeasurement(name, options.Duration, cpu);
        return (measurement, other.TotalMilliseconds / Math.Max(1, measurement.Count));
    }

    /// <summary>Ours as the gateway's build output runs (embedded), with <paramref name="settings"/> after the bench's own; waits for /health.</summary>
    public static async Task<(ServerProcess, string)> StartPraisonAsync(params string[] settings)
    {
        var (url, args) = Targets.EmbeddedGatewayArgs();
        var server = ServerProcess.Start("gateway", "gateway", "Praison.Orleans.Gateway", [.. args, .. settings]);
        await Eventually.Until(
            async () =>
            {
                using var http = new HttpClient();
                try
                {
                    return server.HasExited ? throw new InvalidOperationException("The gateway exited:\n" + server.Output)
                        : (await http.GetAsync(url + "/health")).IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            up => up, "the gateway process to answer /health", TimeSpan.FromMinutes(2));
        return (server, url);
    }

    /// <summary>This harness in its <c>serve</c> role (<see cref="ServeAsync"/>) as a process of its own; waits until it listens.</summary>
    public static async Task<(ServerProcess, string)> StartServeAsync(string kind, params string[] args)
    {
        var server = ServerProcess.Start(kind, typeof(OutOfProcess).Assembly.Location, ["serve", kind, .. args]);
        var url = await Eventually.Until(
            () => Task.FromResult(server.HasExited
                ? throw new InvalidOperationException($"The {kind} process exited:\n{server.Output}")
                : ListeningLine().Match(server.Output) is { Success: true } m ? m.Groups[1].Value : null),
            found => found is not null, $"the {kind} process to listen", TimeSpan.FromMinutes(1));
        return (server, url!);
    }

    private static async Task EnsureWrkAsync()
    {
        if (File.Exists("/usr/bin/wrk"))
        {
            return;
        }

        Console.WriteLine("Installing wrk (apt-get)...");
        foreach (var args in new[] { "update -q", "install -y -q wrk" })
        {
            using var apt = Process.Start(new ProcessStartInfo("apt-get", args))!;
            await apt.WaitForExitAsync();
            if (apt.ExitCode != 0)
            {
                throw new InvalidOperationException($"apt-get {args} failed with code {apt.ExitCode}; install wrk (Debian package) to run this scenario.");
            }
        }
    }

    private static async Task<WrkResult> RunWrkAsync(string url, string script, int connections, TimeSpan duration)
    {
        var start = new ProcessStartInfo("wrk") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-t1", $"-c{connections}", $"-d{(int)duration.TotalSeconds}s", "--latency", "-s", script, url + "/api/v1/runs" })
        {
            start.ArgumentList.Add(arg);
        }

        using var wrk = Process.Start(start)!;
        var output = await wrk.StandardOutput.ReadToEndAsync();
        await wrk.WaitForExitAsync();
        return wrk.ExitCode == 0 ? WrkResult.Parse(output) : throw new InvalidOperationException($"wrk failed ({wrk.ExitCode}): {output}{await wrk.StandardError.ReadToEndAsync()}");
    }

    /// <summary>User plus system CPU time of a running process so far (<see cref="ProcStat"/>).</summary>
    private static TimeSpan CpuTime(int pid) => ProcStat.Read(pid)?.Cpu ?? throw new InvalidOperationException($"Process {pid} has ended.");

    private static long ResidentBytes(int pid) =>
        File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024).Single();

    [GeneratedRegex(@"listening (\S+)")]
    private static partial Regex ListeningLine();

    /// <summary>What wrk printed: requests, failed ones (non-2xx and socket errors), p50 and p99 latency.</summary>
    private sealed partial record WrkResult(long Requests, long Errors, double P50Ms, double P99Ms)
    {
        public static WrkResult Parse(string output)
        {
            long Number(Regex pattern) => pattern.Match(output) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
            var socketErrors = SocketErrors().Match(output) is { Success: true } s
                ? Enumerable.Range(1, 4).Sum(i => long.Parse(s.Groups[i].Value, CultureInfo.InvariantCulture))
                : 0;
            return new WrkResult(Number(RequestCount()), Number(Non2xx()) + socketErrors, Latency(output, "50%"), Latency(output, "99%"));
        }

        public Measurement ToMeasurement(string name, TimeSpan window, TimeSpan serverCpu)
        {
            var answered = Math.Max(Requests - Errors, 1);
            return new Measurement(name, (int)(Requests - Errors), (int)Errors, answered / window.TotalSeconds, P50Ms, P99Ms,
                serverCpu.TotalMilliseconds / answered);
        }

        private static double Latency(string output, string percentile)
        {
            var m = Regex.Match(output, $@"^\s*{Regex.Escape(percentile)}\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
            if (!m.Success)
            {
                return double.NaN;
            }

            var value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            return m.Groups[2].Value switch { "us" => value / 1000, "ms" => value, _ => value * 1000 };
        }

        [GeneratedRegex(@"(\d+) requests in")]
        private static partial Regex RequestCount();

        [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)")]
        private static partial Regex Non2xx();

        [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
        private static partial Regex SocketErrors();
    }
}
