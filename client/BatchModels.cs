namespace Praison.Orleans.Client;

/// <summary>
/// A batch to submit (docs/api.md "Batches"): 1 to 10,000 <see cref="Jobs"/>, and optionally a
/// <see cref="Then"/> job that runs once they have all ended (by its <see cref="JobRequest.RunIf"/>), with
/// their results.
/// </summary>
public sealed record BatchRequest(IReadOnlyList<JobRequest> Jobs)
{
    public JobRequest? Then { get; init; }
}

/// <summary>How many of a batch's jobs are in each state (<c>missing</c>: never created, or gone before the batch learnt their end).</summary>
public sealed record BatchCounts(int Queued, int Running, int Succeeded, int Failed, int Cancelled, int Missing);

/// <summary>
/// A batch as the API shows it: its status (<see cref="JobStatuses"/>), counts and then job. A submit's
/// answer carries <see cref="JobIds"/> (in the order given), a read a page of <see cref="Jobs"/>.
/// </summary>
public sealed record BatchInfo(
    string BatchId,
    string Status,
    int Total,
    BatchCounts Counts,
    bool Creating,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt,
    string PollUrl,
    string StreamUrl)
{
    public DateTimeOffset? CancelledAt { get; init; }

    /// <summary>The then job; while <see cref="Creating"/> it may not exist yet (it is made last).</summary>
    public string? ThenJobId { get; init; }

    public IReadOnlyList<string>? JobIds { get; init; }
    public IReadOnlyList<JobInfo>? Jobs { get; init; }
    public int? Page { get; init; }
    public int? PageSize { get; init; }

    /// <summary>True once every job has ended (and the batch said how).</summary>
    public bool IsFinished => CompletedAt is not null;
}
