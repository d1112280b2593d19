using Microsoft.Extensions.Logging;

namespace Praison.Orleans.Grains.Jobs;

public sealed partial class JobGrain
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} submitted ({AgentId})")]
    private static partial void LogSubmitted(ILogger logger, string jobId, string? agentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} ended {Status}: {Reason}")]
    private static partial void LogEnded(ILogger logger, string jobId, JobStatus status, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} removed for clients ({Reason}); kept until its webhook settles and no dependant waits on it")]
    private static partial void LogHidden(ILogger logger, string jobId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} removed: {Reason}")]
    private static partial void LogRemoved(ILogger logger, string jobId, string reason);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Job {JobId} resumed on {Trigger}: status {Status}, {Attempt} attempt(s) so far")]
    private static partial void LogResuming(ILogger logger, string jobId, JobStatus status, int attempt, string trigger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} handed over: {Reason}")]
    private static partial void LogHandingOver(ILogger logger, string jobId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: the work failed")]
    private static partial void LogWorkFailed(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId}: the run loop failed; the sweep will resume it")]
    private static partial void LogLoopFailed(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: storage did not take a transition; retrying in {Delay}")]
    private static partial void LogStorageRetry(ILogger logger, string jobId, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: a progress checkpoint was not stored; the next one writes it")]
    private static partial void LogCheckpointFailed(ILogger logger, string jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: webhook {Outcome} ({Error}; next round {NextRoundAt})")]
    private static partial void LogWebhook(ILogger logger, string jobId, string outcome, string? error, DateTimeOffset? nextRoundAt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId}: webhook delivery failed; the sweep retries it")]
    private static partial void LogWebhookFailed(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} cancelled before it ran: {Why}")]
    private static partial void LogCancelledByDependency(ILogger logger, string jobId, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: asking job {ParentId} how it ended failed; asking again in {Delay}")]
    private static partial void LogParentAskFailed(ILogger logger, Exception exception, string jobId, string parentId, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: its dependants did not all say whether they still wait on it; it is kept, and the sweep asks again")]
    private static partial void LogDependantsUnanswered(ILogger logger, Exception exception, string jobId);
}
