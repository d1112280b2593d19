namespace Praison.Orleans.Gateway.Auth;

/// <summary>
/// API keys (docs/api.md: API keys and tenants). Section <c>Auth</c>, plus the environment variable
/// <c>PRAISONAI_JOBS_API_KEY</c>. With no key at all the API is open on loopback binds and closed
/// (401) on any other.
/// </summary>
public sealed class ApiKeyOptions
{
    public const string Section = "Auth";

    /// <summary>PraisonAI's single shared key; its callers act as tenant <c>default</c>. Default: none.</summary>
    public const string SingleKeyVariable = "PRAISONAI_JOBS_API_KEY";

    /// <summary>
    /// Tenants by name, each with the SHA-256 hashes (hex) of its keys — the keys themselves are never
    /// configured: <c>Auth:Tenants:acme:KeySha256:0=&lt;sha256 of the key&gt;</c>. Default: none.
    /// </summary>
    public Dictionary<string, TenantKeys> Tenants { get; set; } = [];

    /// <summary>
    /// SHA-256 hashes (hex) of the operator's keys, which read <c>/metrics</c> (every tenant's counts) and
    /// nothing else: <c>Auth:MetricsKeySha256:0=&lt;sha256 of the key&gt;</c>. Without tenants, the single
    /// <c>PRAISONAI_JOBS_API_KEY</c> reads it too; a tenant's key never does. Default: none.
    /// </summary>
    public List<string> MetricsKeySha256 { get; set; } = [];

    public IEnumerable<string> Problems()
    {
        foreach (var (tenant, keys) in Tenants)
        {
            if (!JobKeys.IsValidTenant(tenant))
            {
                yield return $"Auth:Tenants: '{tenant}' is not a tenant name (1–64 of a-z, 0-9, '-', '_').";
            }

            foreach (var hash in keys.KeySha256.Where(h => !IsSha256(h)))
            {
                yield return $"Auth:Tenants:{tenant}:KeySha256: '{hash}' is not a SHA-256 hash in hex (64 characters).";
            }
        }

        foreach (var hash in MetricsKeySha256.Where(h => !IsSha256(h)))
        {
            yield return $"Auth:MetricsKeySha256: '{hash}' is not a SHA-256 hash in hex (64 characters).";
        }
    }

    private static bool IsSha256(string hash) => hash.Length == 64 && hash.All(Uri.IsHexDigit);
}

public sealed class TenantKeys
{
    /// <summary>SHA-256 hashes (hex) of the tenant's keys.</summary>
    public List<string> KeySha256 { get; set; } = [];
}
