using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// Which addresses a webhook may not reach unless private targets are allowed: loopback, private,
/// shared, link-local, multicast and reserved ranges, in IPv4 and IPv6 — and the IPv4 address inside
/// every IPv6 form that carries one (IPv4-mapped, -compatible and -translated, NAT64, 6to4, Teredo),
/// so <c>[::ffff:127.0.0.1]</c> or <c>[2002:7f00:1::]</c> is judged as the 127.0.0.1 it reaches.
/// Used by the gateway at submit and by the silo where the connection is made.
/// </summary>
public static class WebhookAddresses
{
    /// <summary>What kind of non-public address <paramref name="address"/> is, or null for a public one.</summary>
    public static string? NonPublicKind(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return NonPublicKind(address.GetAddressBytes());
        }

        if (address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None))
        {
            return "unspecified";
        }

        if (address.Equals(IPAddress.IPv6Loopback))
        {
            return "loopback";
        }

        var bytes = address.GetAddressBytes();
        foreach (var embedded in EmbeddedIPv4(bytes))
        {
            if (NonPublicKind(embedded) is { } kind)
            {
                return kind;
            }
        }

        return bytes switch
        {
            [0xfe, >= 0x80 and <= 0xbf, ..] => "link-local",
            [0xfe, >= 0xc0, ..] or [>= 0xfc and <= 0xfd, ..] => "private",
            [0xff, ..] => "multicast",
            [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01, ..] => "private", // 64:ff9b:1::/48, local-use NAT64
            [0x20, 0x01, 0x0d, 0xb8, ..] or [0x01, 0x00, 0, 0, 0, 0, 0, 0, ..] => "reserved", // documentation, discard-only
            _ => null,
        };
    }

    /// <summary>The IPv4 addresses an IPv6 address carries, by every embedding that routes to them.</summary>
    private static IEnumerable<byte[]> EmbeddedIPv4(byte[] v6)
    {
        var head = v6.AsSpan(0, 10);
        if (head.IndexOfAnyExcept((byte)0) < 0)
        {
            var (b10, b11) = (v6[10], v6[11]);
            if ((b10, b11) is (0, 0) or (0xff, 0xff))
            {
                yield return v6[12..16]; // IPv4-compatible ::a.b.c.d, IPv4-mapped ::ffff:a.b.c.d
            }
        }

        if (v6.AsSpan(0, 8).IndexOfAnyExcept((byte)0) < 0 && (v6[8], v6[9], v6[10], v6[11]) == (0xff, 0xff, 0, 0))
        {
            yield return v6[12..16]; // IPv4-translated ::ffff:0:a.b.c.d
        }

        if ((v6[0], v6[1], v6[2], v6[3]) == (0x00, 0x64, 0xff, 0x9b) && v6.AsSpan(4, 8).IndexOfAnyExcept((byte)0) < 0)
        {
            yield return v6[12..16]; // NAT64 64:ff9b::/96
        }

        if ((v6[0], v6[1]) == (0x20, 0x02))
        {
            yield return v6[2..6]; // 6to4 2002:AABB:CCDD::/48
        }

        if ((v6[0], v6[1], v6[2], v6[3]) == (0x20, 0x01, 0x00, 0x00))
        {
            yield return v6[4..8]; // Teredo server
            var client = BinaryPrimitives.ReadUInt32BigEndian(v6.AsSpan(12)) ^ 0xffffffffu;
            var bytes = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(bytes, client);
            yield return bytes; // Teredo client, stored inverted
        }
    }

    private static string? NonPublicKind(byte[] v4) => v4 switch
    {
        [127, ..] => "loopback",
        [10, ..] or [172, >= 16 and <= 31, ..] or [192, 168, ..] => "private",
        [100, >= 64 and <= 127, ..] => "shared (carrier-grade NAT)",
        [169, 254, ..] => "link-local",
        [0, ..] => "unspecified",
        [192, 0, 0, ..] or [192, 0, 2, ..] or [198, >= 18 and <= 19, ..] or [198, 51, 100, ..] or [203, 0, 113, ..] => "reserved",
        [>= 224, ..] => "multicast or reserved",
        _ => null,
    };
}
