using System.Text.Json;

namespace Praison.Orleans.Client;

/// <summary>
/// One event of a job's stream (docs/api.md "Streams"): <see cref="Type"/> is <c>status</c>
/// (<see cref="Status"/>), <c>progress</c> (<see cref="Percentage"/>, <see cref="Step"/>), <c>heartbeat</c>,
/// or the final <c>result</c> (<see cref="Result"/>), <c>error</c> (<see cref="Error"/>) or
/// <c>cancelled</c> (<see cref="Message"/>). <see cref="Id"/> orders a job's events (none on heartbeats).
/// </summary>
public sealed record JobEvent(string Type, long? Id)
{
    public string? Status { get; init; }
    public double? Percentage { get; init; }
    public string? Step { get; init; }
    public JsonElement? Result { get; init; }
    public string? Error { get; init; }
    public string? Message { get; init; }

    /// <summary>The job's last event: its result, error or cancellation.</summary>
    public bool IsFinal => Type is "result" or "error" or "cancelled";
}

/// <summary>The data of a stream event, as the server writes it (snake_case).</summary>
internal sealed record JobEventData(string? Status, double? Percentage, string? Step, JsonElement? Result, string? Error, string? Message);
