namespace Praison.Orleans.Gateway.Runs;

/// <summary>Limits of the HTTP API. Section <c>Api</c>.</summary>
public sealed class RunsApiOptions
{
    public const string Section = "Api";

    /// <summary>Largest request body accepted, in bytes; larger ones get 413. Default: 1 MiB.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;
}
