namespace Praison.Orleans.GrainInterfaces;

public static class JobStatusExtensions
{
    /// <summary>Terminal states are final: nothing moves a job out of one.</summary>
    public static bool IsTerminal(this JobStatus status) =>
        status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled;

    /// <summary>The name the HTTP API uses (<c>queued</c>, <c>running</c>, …: <see cref="WireNames"/>).</summary>
    public static string ToWireName(this JobStatus status) => WireNames.Of(status);

    /// <summary>Parses a wire name; false for anything else.</summary>
    public static bool TryParseWireName(string? name, out JobStatus status) => WireNames.TryParse(name, out status);
}
