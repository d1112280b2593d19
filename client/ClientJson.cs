using System.Text.Json.Serialization;

namespace Praison.Orleans.Client;

/// <summary>The client's JSON contracts, generated at build (no reflection: trimming- and AOT-safe), in the API's snake_case.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNameCaseInsensitive = false)]
[JsonSerializable(typeof(JobRequest))]
[JsonSerializable(typeof(SubmittedJob))]
[JsonSerializable(typeof(JobInfo))]
[JsonSerializable(typeof(JobResult))]
[JsonSerializable(typeof(JobPage))]
[JsonSerializable(typeof(JobEventData))]
[JsonSerializable(typeof(ProblemDetails))]
[JsonSerializable(typeof(BatchRequest))]
[JsonSerializable(typeof(BatchInfo))]
[JsonSerializable(typeof(ScheduleRequest))]
[JsonSerializable(typeof(ScheduleUpdate))]
[JsonSerializable(typeof(ScheduleInfo))]
[JsonSerializable(typeof(SchedulePage))]
[JsonSerializable(typeof(ConcurrencyKeys))]
internal sealed partial class ClientJson : JsonSerializerContext;
