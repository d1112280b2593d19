using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Praison.Orleans.Gateway.Auth;

/// <summary>
/// The configured keys as SHA-256 digests, each naming its tenant. A presented key is hashed and
/// compared with every digest in constant time (<see cref="CryptographicOperations.FixedTimeEquals"/>
/// over equal-length digests), so neither its content nor its length leaks through timing.
/// </summary>
public sealed class ApiKeyRing
{
    private readonly List<(byte[] Digest, string Tenant)> _keys = [];

    public ApiKeyRing(IOptions<ApiKeyOptions> options, IConfiguration configuration)
    {
        if (configuration[ApiKeyOptions.SingleKeyVariable] is { Length: > 0 } single)
        {
            _keys.Add((Digest(single), JobKeys.DefaultTenant));
        }

        foreach (var (tenant, keys) in options.Value.Tenants)
        {
            _keys.AddRange(keys.KeySha256.Select(hash => (Convert.FromHexString(hash), tenant)));
        }
    }

    /// <summary>True when any key is configured: then every request but <c>/health</c> must present one.</summary>
    public bool Enabled => _keys.Count > 0;

    /// <summary>The tenant the key belongs to, or null. Compares against every key, matched or not.</summary>
    public string? TenantOf(string presented)
    {
        var digest = Digest(presented);
        string? tenant = null;
        foreach (var (known, owner) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(digest, known))
            {
                tenant ??= owner;
            }
        }

        return tenant;
    }

    public static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
