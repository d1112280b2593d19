using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Praison.Orleans.GrainInterfaces;

/// <summary>Job ids: <c>run_</c> followed by 12 lowercase hex characters.</summary>
public static partial class JobIds
{
    public static string New() => "run_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    /// <summary>True for a well-formed id; anything else cannot name a job and is a 404 without a grain call.</summary>
    public static bool IsWellFormed(string id) => Pattern().IsMatch(id);

    /// <summary>
    /// Submits <paramref name="spec"/> as a new job of <paramref name="tenant"/> under a fresh id, drawing
    /// again on the (unlikely) collision with an existing job, which is never overwritten.
    /// </summary>
    public static async Task<SubmitReply> SubmitNewJobAsync(this IGrainFactory grains, string tenant, JobSpec spec)
    {
        for (var i = 0; i < MaxDraws; i++)
        {
            var reply = await grains.Job(tenant, New()).SubmitAsync(spec);
            if (reply.Status != SubmitStatus.IdTaken)
            {
                return reply;
            }
        }

        throw new InvalidOperationException($"No free job id after {MaxDraws} draws.");
    }

    private const int MaxDraws = 5;

    [GeneratedRegex("^run_[0-9a-f]{12}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
