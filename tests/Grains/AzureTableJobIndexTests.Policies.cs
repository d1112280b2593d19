
namespace Praison.Orleans.Tests.Grains;

/// <summary>Azure SDK pipeline policies the index tests watch or break the table traffic with.</summary>
public sealed partial class AzureTableJobIndexTests
{
    /// <summary>The <c>$filter</c> of every query the index sent.</summary>
    private sealed class QueriesSent : Azure.Core.Pipeline.HttpPipelinePolicy
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Filters { get; } = new();

        public override void Process(Azure.Core.HttpMessage message, ReadOnlyMemory<Azure.Core.Pipeline.HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("the index is asynchronous");

        public override ValueTask ProcessAsync(Azure.Core.HttpMessage message, ReadOnlyMemory<Azure.Core.Pipeline.HttpPipelinePolicy> pipeline)
        {
            var query = System.Web.HttpUtility.ParseQueryString(message.Request.Uri.Query);
            if (query["$filter"] is { } filter)
            {
                Filters.Enqueue(filter);
                Sent.Enqueue((filter, query["$top"]));
            }

            return ProcessNextAsync(message, pipeline);
        }

        /// <summary>Each query's <c>$filter</c> and <c>$top</c> (its page size).</summary>
        public System.Collections.Concurrent.ConcurrentQueue<(string Filter, string? Top)> Sent { get; } = new();
    }

    /// <summary>Lets every <c>every</c>-th transaction commit, then reports it failed: the ambiguous outcome a lost reply gives.</summary>
    private sealed class CommitThenFail(int every) : Azure.Core.Pipeline.HttpPipelinePolicy
    {
        private int _transactions;

        public int Failed { get; private set; }

        public override void Process(Azure.Core.HttpMessage message, ReadOnlyMemory<Azure.Core.Pipeline.HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("the index is asynchronous");

        public override async ValueTask ProcessAsync(Azure.Core.HttpMessage message, ReadOnlyMemory<Azure.Core.Pipeline.HttpPipelinePolicy> pipeline)
        {
            await ProcessNextAsync(message, pipeline);
            if (message.Request.Uri.Path.EndsWith("$batch", StringComparison.Ordinal) && message.Response.Status == 202
                && Interlocked.Increment(ref _transactions) % every == 0)
            {
                Failed++;
                throw new ReportedFailure();
            }
        }

        public sealed class ReportedFailure() : Exception("the transaction committed, and then its reply was lost");
    }

    private static string JobId(int i) => $"run_{i:x12}";

    private static JobIndexEntry Entry(string tenant, int i, JobStatus status, string? session = null, bool key = false, long version = 1)
    {
        var created = Start.AddMinutes(i);
        var job = new JobSnapshot(JobId(i), status, new JobProgress(status.IsTerminal() ? 100 : 10, null, 0, null), created,
            created, status.IsTerminal() ? created.AddSeconds(1) : null, "recipe:echo", session, null, 1, null);
        return new JobIndexEntry(tenant, job, version, key);
    }
}
