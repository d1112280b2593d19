using System.Collections.Frozen;
using System.Text.Json;

namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// How every enum of the API is named on the wire, by one rule: its member's name in lower snake case
/// (<c>queued</c>, <c>skip</c>, <c>one</c>, <c>memory</c>). Parsing takes exactly those names.
/// </summary>
public static class WireNames
{
    public static string Of<T>(T value) where T : struct, Enum =>
        Names<T>.ByValue.TryGetValue(value, out var name) ? name : throw new ArgumentOutOfRangeException(nameof(value), value, null);

    /// <summary>The value <paramref name="name"/> names; false for anything else.</summary>
    public static bool TryParse<T>(string? name, out T value) where T : struct, Enum
    {
        if (name is not null && Names<T>.ByName.TryGetValue(name, out value))
        {
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>Every name of <typeparamref name="T"/>, in declaration order.</summary>
    public static IReadOnlyList<string> All<T>() where T : struct, Enum => Names<T>.InOrder;

    private static class Names<T> where T : struct, Enum
    {
        public static readonly IReadOnlyList<string> InOrder =
            [.. Enum.GetValues<T>().Select(v => JsonNamingPolicy.SnakeCaseLower.ConvertName(v.ToString()))];

        public static readonly FrozenDictionary<T, string> ByValue =
            Enum.GetValues<T>().Zip(InOrder).ToFrozenDictionary(p => p.First, p => p.Second);

        public static readonly FrozenDictionary<string, T> ByName =
            ByValue.ToFrozenDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);
    }
}
