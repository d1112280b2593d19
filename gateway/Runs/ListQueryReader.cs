namespace Praison.Orleans.Gateway.Runs;

/// <summary>
/// Reads <c>GET /api/v1/runs</c>'s query (docs/api.md): <c>status</c> must name a status (else 400 listing
/// them), <c>page</c> ≥ 1, <c>page_size</c> 1–100 and page × page_size ≤ 10,000 (else 422),
/// <c>session_id</c>, <c>schedule_id</c>, <c>batch_id</c> and <c>priority</c> (-100–100, else 422) exact, empty = none.
/// </summary>
internal static class ListQueryReader
{
    public static Parsed<JobListQuery> Read(IQueryCollection query, string tenant)
    {
        JobStatus? status = null;
        if (query["status"].ToString() is { Length: > 0 } text)
        {
            if (!JobStatusExtensions.TryParseWireName(text, out var parsed))
            {
                // PraisonAI's text, word for word (a Python list of the values).
                var valid = string.Join(", ", Enum.GetValues<JobStatus>().Select(s => $"'{s.ToWireName()}'"));
                return ApiProblems.Problem(StatusCodes.Status400BadRequest, $"Invalid status: {text}. Valid values: [{valid}]");
            }

            status = parsed;
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var (page, pageSize) = PageQuery.Read(query, errors);
        if (errors.Count == 0 && (long)page * pageSize > PageQuery.MaxDepth)
        {
            // Each index shard returns the first page × page_size entries to merge: past this, narrow the filter.
            errors["page"] = [$"page × page_size must be at most {PageQuery.MaxDepth}; filter by status or session_id to reach older jobs"];
        }

        int? priority = null;
        if (query["priority"].ToString() is { Length: > 0 } priorityText)
        {
            if (int.TryParse(priorityText, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var value)
                && value is >= JobSpec.MinPriority and <= JobSpec.MaxPriority)
            {
                priority = value;
            }
            else
            {
                errors["priority"] = [$"Must be a whole number from {JobSpec.MinPriority} to {JobSpec.MaxPriority}"];
            }
        }

        if (errors.Count > 0)
        {
            return ApiProblems.Validation(errors);
        }

        var (sessionId, scheduleId, batchId) = (query["session_id"].ToString(), query["schedule_id"].ToString(), query["batch_id"].ToString());
        return new JobListQuery(
            tenant, status, sessionId.Length == 0 ? null : sessionId, page, pageSize, scheduleId.Length == 0 ? null : scheduleId, priority,
            batchId.Length == 0 ? null : batchId);
    }
}
