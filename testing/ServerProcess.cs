using System.Collections.Concurrent;
using System.Diagnostics;

namespace Praison.Orleans.Testing;

/// <summary>One of the project's hosts (silo or gateway) run from its build output as a real process.</summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServerProcess(string name, Process process)
    {
        Name = name;
        _process = process;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The operating system's id of the process, to read its CPU time and memory.</summary>
    public int Id => _process.Id;

    /// <summary>The last lines it printed, for a failing test's message.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>Starts <c>dotnet {project}/bin/…/{assembly}.dll</c> with <paramref name="args"/> and <paramref name="environment"/>.</summary>
    public static ServerProcess Start(string name, string project, string assembly, IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.Combine(RepoPaths.Root, project),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        return Start(name, start, RepoPaths.BuildOutput(project, assembly), args, environment);
    }

    /// <summary>Starts <c>dotnet {assemblyPath}</c> (any .NET program, e.g. the bench itself in another role) with <paramref name="args"/>.</summary>
    public static ServerProcess Start(string name, string assemblyPath, IEnumerable<string> args) =>
        Start(name, new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true }, assemblyPath, args, null);

    private static ServerProcess Start(string name, ProcessStartInfo start, string assemblyPath, IEnumerable<string> args, IDictionary<string, string>? environment)
    {
        start.ArgumentList.Add(assemblyPath);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        return new ServerProcess(name, Process.Start(start)!);
    }

    /// <summary>SIGTERM: asks the process to stop, as an orchestrator or <c>scripts/cluster.sh stop</c> does.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>True when the process exits within <paramref name="timeout"/>.</summary>
    public async Task<bool> ExitsWithinAsync(TimeSpan timeout)
    {
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(wait.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>SIGKILL: the process gets no chance to hand anything over.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    private void Keep(string? line)
    {
        const int longest = 2_000; // a log line may carry a whole record
        line ??= "";
        _output.Enqueue(line.Length > longest ? line[..longest] + "…" : line);
        while (_output.Count > 200 && _output.TryDequeue(out _))
        {
        }
    }
}
