using System.Diagnostics;
using System.Net.Sockets;

namespace Praison.Orleans.Tests.Infrastructure;

/// <summary>
/// A real Azurite (the Azure Storage emulator, installed by scripts/test.sh into tools/azurite) on free
/// loopback ports with its own empty data folder; stopped and deleted on dispose.
/// </summary>
public sealed class Azurite : IAsyncDisposable
{
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly Process _process;
    private readonly string _folder;

    private Azurite(Process process, string folder, int[] ports)
    {
        _process = process;
        _folder = folder;
        ConnectionString =
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
            $"AccountKey={AccountKey};" +
            $"BlobEndpoint=http://127.0.0.1:{ports[0]}/devstoreaccount1;" +
            $"QueueEndpoint=http://127.0.0.1:{ports[1]}/devstoreaccount1;" +
            $"TableEndpoint=http://127.0.0.1:{ports[2]}/devstoreaccount1;";
    }

    public string ConnectionString { get; }

    public static async Task<Azurite> StartAsync()
    {
        var executable = Path.Combine(RepoPaths.Root, "tools", "azurite", "node_modules", ".bin", "azurite");
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
                "--silent", "--skipApiVersionCheck", "--loose", "--location", folder,
                "--blobHost", "127.0.0.1", "--blobPort", ports[0].ToString(),
                "--queueHost", "127.0.0.1", "--queuePort", ports[1].ToString(),
                "--tableHost", "127.0.0.1", "--tablePort", ports[2].ToString(),
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var azurite = new Azurite(Process.Start(start)!, folder, ports);
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
