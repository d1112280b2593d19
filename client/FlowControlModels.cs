namespace Praison.Orleans.Client;

/// <summary>The caller's concurrency keys that live jobs hold or wait for (docs/api.md "Flow control"), summed over <see cref="Silos"/> silos.</summary>
public sealed record ConcurrencyKeys(IReadOnlyList<ConcurrencyKey> Keys, int Total, int Silos);

/// <summary>One concurrency key: its jobs running and waiting, its limit, and its throttle if it has one.</summary>
public sealed record ConcurrencyKey(string Key, int Running, int Waiting, int Limit)
{
    public KeyThrottle? Throttle { get; init; }
}

/// <summary>A key's throttle: at most <see cref="Starts"/> starts in any <see cref="PerSeconds"/> seconds.</summary>
public sealed record KeyThrottle(int Starts, int PerSeconds);
