using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// Every id the service makes, in one place: a job's is <c>run_</c> and 12 lowercase hex characters
/// (random, or derived from a name), a schedule's <c>sch_</c> and 12 (unless its creator names it), a
/// batch's <c>bat_</c> and 12.
/// </summary>
public static partial class JobIds
{
    private const int MaxDraws = 5;

    public static string New() => "run_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    /// <summary>The job id of <paramref name="name"/> (a schedule's firing, say): the same name, the same id.</summary>
    public static string Derived(string name) => "run_" + Hash(name);

    private static string Hash(string name) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)).AsSpan(0, 6));

    /// <summary>The batch id of <paramref name="name"/> (an idempotency key's, a schedule's firing): the same name, the same id.</summary>
    public static string DerivedBatch(string name) => "bat_" + Hash(name);

    /// <summary>A new schedule id, for a schedule created without one.</summary>
    public static string NewSchedule() => "sch_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    /// <summary>A new batch id: <c>bat_</c> and 12 lowercase hex characters.</summary>
    public static string NewBatch() => "bat_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    /// <summary>True for a well-formed id; anything else cannot name a job and is a 404 without a grain call.</summary>
    public static bool IsWellFormed(string id) => Pattern().IsMatch(id);

    /// <summary>True for a well-formed batch id (<see cref="NewBatch"/>).</summary>
    public static bool IsWellFormedBatch(string id) => BatchPattern().IsMatch(id);

    /// <summary>
    /// Submits under fresh ids (<see cref="New"/>) until one is free: <paramref name="submit"/> (given
    /// <paramref name="state"/>, so a static lambda allocates nothing) answers
    /// <see cref="SubmitStatus.IdTaken"/> on the (unlikely) collision with an existing job, which is
    /// never overwritten, and the next draw is tried.
    /// </summary>
    public static async Task<SubmitReply> UnderFreshIdAsync<TState>(TState state, Func<TState, string, Task<SubmitReply>> submit)
    {
        for (var draw = 0; draw < MaxDraws; draw++)
        {
            var reply = await submit(state, New());
            if (reply.Status != SubmitStatus.IdTaken)
            {
                return reply;
            }
        }

        throw new InvalidOperationException($"No free job id after {MaxDraws} draws.");
    }

    /// <summary>Submits <paramref name="spec"/> as a new job of <paramref name="tenant"/> under a fresh id.</summary>
    public static Task<SubmitReply> SubmitNewJobAsync(this IGrainFactory grains, string tenant, JobSpec spec) =>
        UnderFreshIdAsync((grains, tenant, spec), static (s, jobId) => s.grains.Job(s.tenant, jobId).SubmitAsync(s.spec));

    [GeneratedRegex("^run_[0-9a-f]{12}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    [GeneratedRegex("^bat_[0-9a-f]{12}$", RegexOptions.CultureInvariant)]
    private static partial Regex BatchPattern();
}
