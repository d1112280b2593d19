using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Praison.Orleans.GrainInterfaces;

/// <summary>Job ids: <c>run_</c> followed by 12 lowercase hex characters.</summary>
public static partial class JobIds
{
    public static string New() => "run_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    /// <summary>True for a well-formed id; anything else cannot name a job and is a 404 without a grain call.</summary>
    public static bool IsWellFormed(string id) => Pattern().IsMatch(id);

    [GeneratedRegex("^run_[0-9a-f]{12}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
