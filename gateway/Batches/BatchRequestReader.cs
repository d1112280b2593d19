using System.Text.Json;
using Praison.Orleans.Gateway.Runs;

namespace Praison.Orleans.Gateway.Batches;

/// <summary>
/// Reads a batch body (docs/api.md "Batches"): <c>jobs</c>, an array of 1 to <see cref="BatchSpec.MaxJobs"/>
/// submit bodies, and an optional <c>then</c> body, each read as a submit is (errors named
/// <c>jobs[i].field</c> and <c>then.field</c>; the first <see cref="MaxJobsNamed"/> wrong jobs are named).
/// </summary>
internal sealed class BatchRequestReader : JsonBodyReader
{
    /// <summary>How many wrong jobs a 422 names at most (one bad field repeated in 10,000 jobs is one fix).</summary>
    public const int MaxJobsNamed = 20;

    private readonly ApiOptions _limits;
    private readonly DateTimeOffset _now;

    private BatchRequestReader(JsonElement body, ApiOptions limits, DateTimeOffset now)
        : base(body) => (_limits, _now) = (limits, now);

    public static Task<Parsed<BatchSpec>> ReadAsync(HttpRequest request, ApiOptions limits, DateTimeOffset now, CancellationToken cancellationToken) =>
        ReadAsync(request, limits.MaxBatchBodyBytes, (limits, now), static (body, s) => new BatchRequestReader(body, s.limits, s.now).Read(), cancellationToken);

    private Parsed<BatchSpec> Read()
    {
        var jobs = Jobs();
        var then = Optional("then") is { } given ? Job(given, "then") : null;
        return HasErrors || jobs is null ? Refusal() : new BatchSpec(jobs, then);
    }

    private List<JobSpec>? Jobs()
    {
        if (Optional("jobs") is not { ValueKind: JsonValueKind.Array } given || given.GetArrayLength() is 0 or > BatchSpec.MaxJobs)
        {
            return Error<List<JobSpec>>("jobs", $"Must be an array of 1–{BatchSpec.MaxJobs} submit bodies");
        }

        var (jobs, wrong) = (new List<JobSpec>(given.GetArrayLength()), 0);
        foreach (var item in given.EnumerateArray())
        {
            if (Job(item, $"jobs[{jobs.Count + wrong}]") is { } spec)
            {
                jobs.Add(spec);
            }
            else if (++wrong == MaxJobsNamed)
            {
                break;
            }
        }

        return wrong == 0 ? jobs : null;
    }

    private JobSpec? Job(JsonElement job, string name)
    {
        var (spec, errors) = SubmitRequestReader.ReadBatchJob(job, _limits, _now, name);
        foreach (var (field, messages) in errors)
        {
            Error(field, messages[0]);
        }

        return spec;
    }
}
