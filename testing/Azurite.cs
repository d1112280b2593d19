using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Praison.Orleans.Testing;

/// <summary>
/// A real Azurite (the Azure Storage emulator, installed by scripts/test.sh into tools/azurite) on free
/// loopback ports with its own empty data folder; stopped and deleted on dispose. Started with
/// <c>countRequests</c>, it keeps Azurite's access log and counts the successful requests it served.
/// </summary>
public sealed partial class Azurite : IAsyncDisposable
{
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly Process _process;
    private readonly string _folder;

    private Azurite(Process process, string folder, int[] ports)
    {
        _process = process;
        _folder = folder;
        _blobEndpoint = new Uri($"http://127.0.0.1:{ports[0]}/devstoreaccount1/");
        ConnectionString =
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
            $"AccountKey={AccountKey};" +
            $"BlobEndpoint=http://127.0.0.1:{ports[0]}/devstoreaccount1;" +
            $"QueueEndpoint=http://127.0.0.1:{ports[1]}/devstoreaccount1;" +
            $"TableEndpoint=http://127.0.0.1:{ports[2]}/devstoreaccount1;";
    }

    public string ConnectionString { get; }

    private readonly Uri _blobEndpoint;

    /// <summary>Successful requests served so far (with <c>countRequests</c>), by "METHOD resource".</summary>
    public StorageRequests Requests { get; } = new();

    /// <summary>
    /// Returns once every request Azurite answered before this call is in <see cref="Requests"/>: its access
    /// log is read as it comes, a little behind, but in the order Azurite answered, so once a marker request
    /// made now has been read, everything before it has been too. Needs <c>countRequests</c>.
    /// </summary>
    public async Task SettleAsync()
    {
        var marker = "settle-" + Guid.NewGuid().ToString("N");
        var seen = Requests.Expect(marker);
        using var http = new HttpClient();
        using var _ = await http.GetAsync(new Uri(_blobEndpoint, marker)); // 4xx: the line is all that matters
        await seen.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private static string Executable => Path.Combine(RepoPaths.Root, "tools", "azurite", "node_modules", ".bin", "azurite");

    /// <summary>Installs Azurite into tools/azurite (npm ci, pinned by its package-lock.json) unless it is there.</summary>
    public static async Task EnsureInstalledAsync()
    {
        if (File.Exists(Executable))
        {
            return;
        }

        var npm = new ProcessStartInfo("npm") { ArgumentList = { "ci", "--prefix", Path.Combine(RepoPaths.Root, "tools", "azurite"), "--no-audit", "--no-fund", "--loglevel=error" } };
        using var install = Process.Start(npm)!;
        await install.WaitForExitAsync();
        if (install.ExitCode != 0)
        {
            throw new InvalidOperationException($"npm ci of Azurite into tools/azurite failed with code {install.ExitCode}.");
        }
    }

    public static async Task<Azurite> StartAsync(bool countRequests = false)
    {
        var executable = Executable;
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException(
                $"Azurite is not installed at {executable}: run the tests with scripts/test.sh, which installs it.");
        }

        var ports = FreePorts.Take(3);
        var folder = Directory.CreateTempSubdirectory("praison-azurite-").FullName;
        var start = new ProcessStartInfo(executable)
        {
            ArgumentList =
            {
                "--skipApiVersionCheck", "--loose", "--location", folder,
                "--blobHost", "127.0.0.1", "--blobPort", ports[0].ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--queueHost", "127.0.0.1", "--queuePort", ports[1].ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--tableHost", "127.0.0.1", "--tablePort", ports[2].ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (!countRequests)
        {
            start.ArgumentList.Insert(0, "--silent");
        }

        var azurite = new Azurite(Process.Start(start)!, folder, ports);
        azurite._process.OutputDataReceived += (_, e) => azurite.Requests.Count(e.Data);
        azurite._process.BeginOutputReadLine();
        azurite._process.BeginErrorReadLine();
        await Eventually.Until(
            async () => azurite._process.HasExited || (await Task.WhenAll(ports.Select(Accepts))).All(open => open),
            ready => ready,
            "Azurite to listen",
            TimeSpan.FromSeconds(60));
        if (azurite._process.HasExited)
        {
            throw new InvalidOperationException($"Azurite exited with code {azurite._process.ExitCode}.");
        }

        return azurite;
    }

    private static async Task<bool> Accepts(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Kills the emulator (storage goes away as in an outage); its folder stays until disposal.</summary>
    public async Task StopAsync()
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
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}

/// <summary>Counts from Azurite's access log: each successful request, by method and resource (writes: PUT, POST, MERGE, PATCH, DELETE).</summary>
public sealed partial class StorageRequests
{
    private readonly ConcurrentDictionary<string, long> _counts = new();

    /// <summary>Counts so far, keyed "METHOD resource" (a blob container or a table; "$batch" for table batches).</summary>
    public IReadOnlyDictionary<string, long> Snapshot() => new Dictionary<string, long>(_counts);

    /// <summary>Whether a "METHOD resource" key counts a write.</summary>
    public static bool IsWrite(string key) => !key.StartsWith("GET ", StringComparison.Ordinal) && !key.StartsWith("HEAD ", StringComparison.Ordinal);

    /// <summary>What was counted between <paramref name="before"/> and now.</summary>
    public Dictionary<string, long> Since(IReadOnlyDictionary<string, long> before) =>
        Snapshot().Select(c => (c.Key, Count: c.Value - before.GetValueOrDefault(c.Key)))
            .Where(c => c.Count > 0)
            .ToDictionary(c => c.Key, c => c.Count);

    private readonly ConcurrentDictionary<string, TaskCompletionSource> _markers = new();

    /// <summary>Completes when a logged request names <paramref name="marker"/>.</summary>
    internal Task Expect(string marker) =>
        _markers.GetOrAdd(marker, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    internal void Count(string? accessLogLine)
    {
        foreach (var (marker, seen) in _markers)
        {
            if (accessLogLine?.Contains(marker, StringComparison.Ordinal) == true && _markers.TryRemove(marker, out _))
            {
                seen.TrySetResult();
                return;
            }
        }

        // 127.0.0.1 - - [28/Nov/2026:19:26:19 +0000] "PUT /devstoreaccount1/container/blob HTTP/1.1" 201 -
        if (accessLogLine is null || WriteRequest().Match(accessLogLine) is not { Success: true } match)
        {
            return;
        }

        _counts.AddOrUpdate($"{match.Groups["method"].Value} {match.Groups["resource"].Value}", 1, (_, n) => n + 1);
    }

    [GeneratedRegex("\"(?<method>GET|HEAD|PUT|POST|MERGE|PATCH|DELETE) /[^/\\s]+/(?<resource>[^/?(\\s]+)[^\"]* HTTP/[0-9.]+\" 2[0-9][0-9] ")]
    private static partial Regex WriteRequest();
}
