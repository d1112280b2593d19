using System.Globalization;

namespace Praison.Orleans.GrainInterfaces;

/// <summary>The API's timestamp form: ISO 8601 UTC with microseconds and a <c>Z</c>, as the Python server writes.</summary>
public static class Timestamps
{
    public const string Format = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";

    public static string ToApiString(this DateTimeOffset value) =>
        value.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);
}
