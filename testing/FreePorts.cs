using System.Net;
using System.Net.Sockets;

namespace Praison.Orleans.Testing;

/// <summary>
/// Loopback ports nobody listens on right now, so tests never assume fixed ports are free. They come from
/// below the system's ephemeral range: a port the system hands out for listening on port 0 is also one
/// it hands to outgoing connections, and any client (an HTTP call, a database connection) could take it
/// as its local port between this check and the server's bind. This process never hands a port out twice.
/// </summary>
public static class FreePorts
{
    private const int Lowest = 15_000;

    private static readonly HashSet<int> HandedOut = [];
    private static readonly Lock Gate = new();

    public static int[] Take(int count)
    {
        lock (Gate)
        {
            var ports = new List<int>(count);
            for (var tries = 0; ports.Count < count; tries++)
            {
                if (tries > 10_000)
                {
                    throw new InvalidOperationException($"No free loopback port between {Lowest} and {EphemeralLow - 1}.");
                }

                var port = Random.Shared.Next(Lowest, EphemeralLow);
                if (!HandedOut.Contains(port) && IsFree(port))
                {
                    HandedOut.Add(port);
                    ports.Add(port);
                }
            }

            return [.. ports];
        }
    }

    /// <summary>The first port of the system's ephemeral range (Linux: its ip_local_port_range; else IANA's 49152).</summary>
    private static int EphemeralLow { get; } = ReadEphemeralLow();

    private static int ReadEphemeralLow()
    {
        const string Range = "/proc/sys/net/ipv4/ip_local_port_range";
        return File.Exists(Range) && int.TryParse(File.ReadAllText(Range).Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[0], out var low)
            && low > Lowest + 1_000
            ? low
            : 49_152;
    }

    private static bool IsFree(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        finally
        {
            listener.Stop();
        }
    }
}
