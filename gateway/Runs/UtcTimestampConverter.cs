using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Praison.Orleans.Gateway.Runs;

/// <summary>Writes timestamps as ISO 8601 UTC with a <c>Z</c> and microseconds, as the Python server does.</summary>
internal sealed class UtcTimestampConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToApiString());
}
