using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Npgsql;

namespace Praison.Orleans.Testing;

/// <summary>
/// A real PostgreSQL server (Debian's, installed by scripts/test.sh with apt-get) on a free loopback port
/// with its own data folder, fsync on as in production; stopped and deleted on dispose. The server
/// refuses to run as root, so as root (CI) it runs as the <c>postgres</c> user the package made, in a
/// folder that user owns; its socket goes in that folder, and it listens on 127.0.0.1 only.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly ProcessStartInfo _start;
    private readonly string _folder;
    private Process _process = null!;

    private PostgresServer(ProcessStartInfo start, string folder, int port)
    {
        (_start, _folder) = (start, folder);
        ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=true";
    }

    /// <summary>An Npgsql connection string to the server's <c>postgres</c> database, as the superuser (trust on loopback).</summary>
    public string ConnectionString { get; }

    /// <summary>
    /// CPU time (user plus system) the server's processes have used so far: the postmaster and every
    /// process it started that is still running (backends, writers), read from /proc. A bench reads it
    /// before and after a load whose connections stay open throughout.
    /// </summary>
    public TimeSpan CpuTime() => ProcStat.OfProcessAndChildren(_process.Id);

    /// <summary>The newest Debian PostgreSQL binaries folder, e.g. <c>/usr/lib/postgresql/15/bin</c>; null when none is installed.</summary>
    public static string? Binaries =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.EnumerateDirectories("/usr/lib/postgresql")
                .Select(d => (Dir: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
                .Where(d => File.Exists(Path.Combine(d.Dir, "postgres")))
                .OrderByDescending(d => d.Version)
                .Select(d => d.Dir)
                .FirstOrDefault()
            : null;

    public static async Task<PostgresServer> StartAsync()
    {
        var binaries = Binaries ?? throw new InvalidOperationException(
            "No PostgreSQL server under /usr/lib/postgresql: run the tests with scripts/test.sh, which installs Debian's with apt-get.");
        var folder = Directory.CreateTempSubdirectory("praison-postgres-").FullName;
        var data = Path.Combine(folder, "data");
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            await RunAsync("chown", "postgres:postgres", folder);
        }

        await RunAsync(AsServerUser(asRoot, Path.Combine(binaries, "initdb"),
            "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"));
        var port = FreePorts.Take(1)[0];
        var start = AsServerUser(asRoot, Path.Combine(binaries, "postgres"),
            "-D", data, "-k", folder, "-p", port.ToString(CultureInfo.InvariantCulture),
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=on", "-c", "max_connections=200");
        start.RedirectStandardError = true;
        start.RedirectStandardOutput = true;
        var server = new PostgresServer(start, folder, port);
        await server.RunAsync();
        return server;
    }

    /// <summary>Starts the server on its data folder and waits until it accepts connections.</summary>
    private async Task RunAsync()
    {
        _process = Process.Start(_start)!;
        _process.BeginErrorReadLine(); // its log, read and dropped so its pipes never fill
        _process.BeginOutputReadLine();
        await Eventually.Until(AcceptsAsync, ready => ready || _process.HasExited, "PostgreSQL to accept connections", TimeSpan.FromSeconds(60));
        if (_process.HasExited)
        {
            throw new InvalidOperationException($"PostgreSQL exited with code {_process.ExitCode} (folder {_folder}).");
        }
    }

    /// <summary>
    /// Starts the server again after <see cref="KillAsync"/>, on the same data and port: it recovers
    /// from its write-ahead log what had committed, as after a crash.
    /// </summary>
    public async Task RestartAsync()
    {
        await KillAsync();
        _process.Dispose();
        await RunAsync();
    }

    /// <summary>A new empty database on this server, and its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "db_" + Guid.NewGuid().ToString("N")[..12];
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await create.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
    }

    private async Task<bool> AcceptsAsync()
    {
        try
        {
            await using var connection = new NpgsqlConnection(ConnectionString + ";Pooling=false;Timeout=2");
            await connection.OpenAsync();
            return true;
        }
        catch (NpgsqlException)
        {
            return false;
        }
    }

    /// <summary>The server as the <c>postgres</c> user when this process is root (setpriv execs it: no process in between).</summary>
    private static ProcessStartInfo AsServerUser(bool asRoot, string executable, params string[] arguments)
    {
        var start = asRoot
            ? new ProcessStartInfo("setpriv") { ArgumentList = { "--reuid=postgres", "--regid=postgres", "--init-groups", "--", executable } }
            : new ProcessStartInfo(executable);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    private static Task RunAsync(string executable, params string[] arguments) => RunAsync(new ProcessStartInfo(executable, arguments));

    private static async Task RunAsync(ProcessStartInfo start)
    {
        (start.RedirectStandardOutput, start.RedirectStandardError) = (true, true);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{start.FileName} {string.Join(' ', start.ArgumentList)} failed ({process.ExitCode}): {await errors}{await output}");
        }
    }

    /// <summary>Stops the server as an outage would (SIGKILL of the postmaster: no shutdown checkpoint).</summary>
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
        if (!_process.HasExited)
        {
            // Fast shutdown (SIGINT): the postmaster ends its backends and exits.
            _ = Kill(_process.Id, 2);
            if (!_process.WaitForExit(TimeSpan.FromSeconds(20)))
            {
                await KillAsync();
            }
        }

        _process.Dispose();
        NpgsqlConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held: the temp folder is left behind.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
