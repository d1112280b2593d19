using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Praison.Orleans.Gateway.Auth;

/// <summary>Who presented a key: a tenant (the jobs API), an operator (<c>/metrics</c>), or both.</summary>
public readonly record struct KeyHolder(string? Tenant, bool Operator);

/// <summary>
/// The configured keys as SHA-256 digests, each naming its holder. A presented key is hashed and
/// compared with every digest in constant time (<see cref="CryptographicOperations.FixedTimeEquals"/>
/// over equal-length digests), so neither its content nor its length leaks through timing.
/// </summary>
public sealed class ApiKeyRing
{
    private readonly List<(byte[] Digest, KeyHolder Holder)> _keys = [];

    public ApiKeyRing(IOptions<ApiKeyOptions> options, IConfiguration configuration)
    {
        var tenants = options.Value.Tenants;
        if (configuration[ApiKeyOptions.SingleKeyVariable] is { Length: > 0 } single)
        {
            // PraisonAI's one shared key is the whole deployment's, its operator's too, unless tenants are configured.
            _keys.Add((Digest(single), new KeyHolder(JobKeys.DefaultTenant, Operator: tenants.Count == 0)));
        }

        foreach (var (tenant, keys) in tenants)
        {
            _keys.AddRange(keys.KeySha256.Select(hash => (Convert.FromHexString(hash), new KeyHolder(tenant, Operator: false))));
        }

        Enabled = _keys.Count > 0;
        _keys.AddRange(options.Value.MetricsKeySha256.Select(hash => (Convert.FromHexString(hash), new KeyHolder(null, Operator: true))));
    }

    /// <summary>True when any tenant's key is configured: then every request but <c>/health</c> must present one.</summary>
    public bool Enabled { get; }

    /// <summary>The holder of the key, or null. Compares against every key, matched or not.</summary>
    public KeyHolder? HolderOf(string presented)
    {
        var digest = Digest(presented);
        KeyHolder? holder = null;
        foreach (var (known, owner) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(digest, known))
            {
                holder ??= owner;
            }
        }

        return holder;
    }

    public static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
