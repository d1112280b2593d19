using Praison.Orleans.Client;

namespace Praison.Orleans.Bench;

/// <summary>
/// How soon a job with <c>depends_on</c> starts once its last parent has ended, in memory mode, against
/// the same server's start of a job that waits for nothing. Each trial submits its parents delayed by
/// <see cref="ParentDelay"/> (so the child is waiting when they end) and the child at once; the child's
/// <c>started_at</c> less its last parent's <c>completed_at</c> (one clock, the server's) is the sample.
/// The baseline is a plain echo's <c>started_at</c> less its <c>created_at</c>, submitted alone on the
/// same server. Trials alternate with 1 and 10 parents; a few run at once, so slots are never short.
/// It calls the server through the typed client, which waits for each job on its stream.
/// </summary>
public sealed class Dependencies(BenchOptions options, Dictionary<string, double> figures)
{
    private static readonly TimeSpan ParentDelay = TimeSpan.FromMilliseconds(300);
    private const int AtOnce = 4;
    private static readonly JobRequest Echo = new("bench") { RecipeName = "echo" };

    public async Task<List<Measurement>> RunAsync()
    {
        var target = await Targets.StartPraisonAsync();
        try
        {
            await using var clients = JobsClients.For(target.Url);
            var jobs = clients.Jobs;
            var trials = Math.Clamp(options.Jobs / 10, 20, 1_000);
            var plain = await SampleAsync(trials, _ => PlainStartAsync(jobs));
            var one = await SampleAsync(trials, _ => DependantStartAsync(jobs, parents: 1));
            var ten = await SampleAsync(trials, _ => DependantStartAsync(jobs, parents: 10));
            var results = new List<Measurement>
            {
                Measurement.From("start after submit: no depends_on", plain, 0, TimeSpan.FromSeconds(1)),
                Measurement.From("start after last parent: 1 parent", one, 0, TimeSpan.FromSeconds(1)),
                Measurement.From("start after last parent: 10 parents", ten, 0, TimeSpan.FromSeconds(1)),
            };
            foreach (var row in results)
            {
                figures[$"depends_on: {row.Name}: p99 ms"] = row.P99Ms;
            }

            return [.. results.Select(r => r with { PerSecond = double.NaN })];
        }
        finally
        {
            await target.StopAsync();
        }
    }

    private static async Task<List<double>> SampleAsync(int trials, Func<int, Task<double>> trial)
    {
        var samples = new List<double>();
        for (var done = 0; done < trials; done += AtOnce)
        {
            samples.AddRange(await Task.WhenAll(Enumerable.Range(done, Math.Min(AtOnce, trials - done)).Select(trial)));
        }

        return samples;
    }

    private static async Task<double> PlainStartAsync(PraisonJobsClient jobs)
    {
        var job = await SucceededAsync(jobs, (await jobs.SubmitAsync(Echo)).JobId);
        return (job.StartedAt!.Value - job.CreatedAt).TotalMilliseconds;
    }

    private static async Task<double> DependantStartAsync(PraisonJobsClient jobs, int parents)
    {
        var ids = await Task.WhenAll(Enumerable.Range(0, parents).Select(async _ =>
            (await jobs.SubmitAsync(Echo with { DelaySeconds = ParentDelay.TotalSeconds })).JobId));
        var child = await SucceededAsync(jobs, (await jobs.SubmitAsync(Echo with { DependsOn = ids })).JobId);
        var ends = await Task.WhenAll(ids.Select(async id => (await SucceededAsync(jobs, id)).CompletedAt!.Value));
        var after = (child.StartedAt!.Value - ends.Max()).TotalMilliseconds;
        return after >= 0 ? after : throw new InvalidOperationException($"{child.JobId} started {-after} ms before its last parent ended");
    }

    private static async Task<JobInfo> SucceededAsync(PraisonJobsClient jobs, string jobId)
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var job = await jobs.WaitAsync(jobId, bound.Token);
        return job.Status == JobStatuses.Succeeded ? job : throw new InvalidOperationException($"{jobId} ended {job.Status}: {job.Error}");
    }
}
