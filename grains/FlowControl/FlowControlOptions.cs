namespace Praison.Orleans.Grains.FlowControl;

/// <summary>
/// The limits of concurrency keys (section <c>FlowControl</c>): rules by tenant and key pattern, the
/// first that matches a job's key applies, and a submit's <c>concurrency_limit</c> may only lower its
/// concurrency. A key no rule matches runs at most <see cref="DefaultConcurrency"/> jobs at once, or the
/// submit's limit.
/// </summary>
public sealed class FlowControlOptions
{
    public const string Section = "FlowControl";

    /// <summary>The rules, first match wins (<c>FlowControl:Keys:0:Key=openai:*</c>, <c>…:Concurrency=5</c>, <c>…:Starts=60</c>, <c>…:PerSeconds=60</c>).</summary>
    public List<KeyRule> Keys { get; set; } = [];

    /// <summary>Jobs of a key no rule matches that may run at once when the submit names no <c>concurrency_limit</c>. Default: 1.</summary>
    public int DefaultConcurrency { get; set; } = 1;

    /// <summary>
    /// How often a key with waiting jobs checks membership for silos declared dead, whose leases it then
    /// takes back (their jobs resume elsewhere and ask again). Default: 2 seconds.
    /// </summary>
    public TimeSpan DeadSiloCheckPeriod { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Added to a throttle's period when counting its starts, so that jobs whose starts lag their grant
    /// unevenly (a write, a slot) still start at most so many within any period. Default: 100 ms.
    /// </summary>
    public TimeSpan ThrottleMargin { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How long a new key activation waits for one silo to say what its jobs hold. Default: 5 seconds.</summary>
    public TimeSpan LeaseReportTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The limits of <paramref name="key"/> of <paramref name="tenant"/>, lowered to <paramref name="submittedLimit"/> when one was given.</summary>
    public KeyLimits LimitsFor(string tenant, string key, int submittedLimit)
    {
        var rule = Keys.FirstOrDefault(r => r.Matches(tenant, key));
        var submitted = submittedLimit > 0 ? submittedLimit : int.MaxValue;
        var concurrency = rule switch
        {
            { Concurrency: > 0 } => Math.Min(rule.Concurrency, submitted),
            not null => Math.Min(JobSpec.MaxConcurrencyLimit, submitted), // a throttle only
            null => submittedLimit > 0 ? submittedLimit : DefaultConcurrency,
        };
        return rule is { Starts: > 0, PerSeconds: > 0 }
            ? new KeyLimits(concurrency, rule.Starts, TimeSpan.FromSeconds(rule.PerSeconds))
            : new KeyLimits(concurrency);
    }

    /// <summary>The problems with these options, empty when they are valid.</summary>
    public IEnumerable<string> Problems()
    {
        if (DefaultConcurrency is < 1 or > JobSpec.MaxConcurrencyLimit)
        {
            yield return $"FlowControl:DefaultConcurrency must be 1–{JobSpec.MaxConcurrencyLimit}, not {DefaultConcurrency}.";
        }

        if (DeadSiloCheckPeriod <= TimeSpan.Zero || LeaseReportTimeout <= TimeSpan.Zero || ThrottleMargin < TimeSpan.Zero)
        {
            yield return "FlowControl:DeadSiloCheckPeriod and FlowControl:LeaseReportTimeout must be positive, FlowControl:ThrottleMargin zero or more.";
        }

        for (var i = 0; i < Keys.Count; i++)
        {
            foreach (var problem in Keys[i].Problems())
            {
                yield return $"FlowControl:Keys:{i}: {problem}";
            }
        }
    }
}

/// <summary>
/// The limits of the keys matching <see cref="Key"/> (a pattern: <c>*</c> stands for any run of
/// characters) of the tenants matching <see cref="Tenant"/>: at most <see cref="Concurrency"/> running
/// at once (0: no limit of its own), at most <see cref="Starts"/> starts per <see cref="PerSeconds"/> (0: no throttle).
/// </summary>
public sealed class KeyRule
{
    public string Tenant { get; set; } = "*";

    public string Key { get; set; } = "*";

    public int Concurrency { get; set; }

    public int Starts { get; set; }

    public int PerSeconds { get; set; }

    public bool Matches(string tenant, string key) => Wildcard.Matches(Tenant, tenant) && Wildcard.Matches(Key, key);

    public IEnumerable<string> Problems()
    {
        if (Concurrency is < 0 or > JobSpec.MaxConcurrencyLimit)
        {
            yield return $"Concurrency must be 0 (none of its own) to {JobSpec.MaxConcurrencyLimit}, not {Concurrency}.";
        }

        if (Starts < 0 || PerSeconds < 0 || (Starts > 0) != (PerSeconds > 0))
        {
            yield return "Starts and PerSeconds go together: both positive (a throttle) or both 0 (none).";
        }

        if (Starts > 100_000 || PerSeconds > 86_400)
        {
            yield return "Starts must be at most 100000 and PerSeconds at most 86400 (a day).";
        }

        if (Concurrency == 0 && Starts == 0)
        {
            yield return "A rule needs a Concurrency or a throttle (Starts and PerSeconds).";
        }

        if (string.IsNullOrEmpty(Key) || string.IsNullOrEmpty(Tenant))
        {
            yield return "Key and Tenant must not be empty (\"*\" matches every one).";
        }
    }
}

/// <summary>Patterns where <c>*</c> stands for any run of characters, matched in time linear in pattern times text.</summary>
internal static class Wildcard
{
    public static bool Matches(string pattern, string text)
    {
        int p = 0, t = 0, star = -1, resume = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                (star, resume) = (p++, t);
            }
            else if (p < pattern.Length && pattern[p] == text[t])
            {
                (p, t) = (p + 1, t + 1);
            }
            else if (star >= 0)
            {
                (p, t) = (star + 1, ++resume);
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
