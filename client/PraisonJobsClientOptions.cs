namespace Praison.Orleans.Client;

/// <summary>Where the job system is and how to call it (<see cref="PraisonJobsServiceCollectionExtensions.AddPraisonJobsClient"/>).</summary>
public sealed class PraisonJobsClientOptions
{
    /// <summary>The gateway's address, e.g. <c>http://127.0.0.1:8005</c>. Required.</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>The API key sent with every request (<c>X-API-Key</c>); none for a keyless server.</summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// How often a request the server refused for now (429, or 503: nothing changed) is sent again after
    /// its <c>Retry-After</c>; also a read, or a submit with an idempotency key, that met a transport error. Default: 5.
    /// </summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>Why these options cannot be used; empty when they can.</summary>
    public IEnumerable<string> Problems()
    {
        if (BaseAddress is not { IsAbsoluteUri: true } address || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
        {
            yield return "PraisonJobsClientOptions.BaseAddress must be an absolute http or https URL.";
        }

        if (MaxRetries is < 0 or > 100)
        {
            yield return $"PraisonJobsClientOptions.MaxRetries must be 0–100, not {MaxRetries}.";
        }
    }
}
