namespace Praison.Orleans.Grains.Jobs;

/// <summary>Submitting a job under a fresh id: the runs API's and a schedule's trigger.</summary>
public static class JobSubmissions
{
    private const int MaxDraws = 5;

    /// <summary>
    /// Submits <paramref name="spec"/> as a new job of <paramref name="tenant"/> under a fresh id, drawing
    /// again on the (unlikely) collision with an existing job, which is never overwritten.
    /// </summary>
    public static async Task<SubmitReply> SubmitNewJobAsync(this IGrainFactory grains, string tenant, JobSpec spec)
    {
        for (var i = 0; i < MaxDraws; i++)
        {
            var reply = await grains.Job(tenant, JobIds.New()).SubmitAsync(spec);
            if (reply.Status != SubmitStatus.IdTaken)
            {
                return reply;
            }
        }

        throw new InvalidOperationException($"No free job id after {MaxDraws} draws.");
    }
}
