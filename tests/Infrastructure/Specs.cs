namespace Praison.Orleans.Tests.Infrastructure;

/// <summary>Job specs for grain tests, as the gateway would build them.</summary>
public static class Specs
{
    public static JobSpec Recipe(
        string name, string configJson = "{}", string prompt = "hello", int timeoutSeconds = 0, int maxAttempts = 0,
        string? sessionId = null) =>
        new(prompt, name, configJson, null, null, "praisonai", "{}", null, timeoutSeconds, sessionId, null, maxAttempts);

    public static JobSpec Probe(
        string scope, double? seconds = null, string? lateResult = null, int timeoutSeconds = 0, int maxAttempts = 0, bool reportOnCancel = false) =>
        Recipe(ProbeRecipe.RecipeName, ProbeLedger.Config(scope, seconds, lateResult, reportOnCancel), timeoutSeconds: timeoutSeconds, maxAttempts: maxAttempts);

    /// <summary>A probe that runs until gate <paramref name="gate"/> opens, then succeeds (or fails with <paramref name="fail"/>).</summary>
    public static JobSpec GatedProbe(string scope, string gate, string? fail = null) =>
        Recipe(ProbeRecipe.RecipeName, ProbeLedger.Config(scope, gate: gate, fail: fail));

    public static JobSpec PromptOnly(string prompt) =>
        new(prompt, null, "{}", null, null, "praisonai", "{}", null, 0, null, null, 0);

    /// <summary>Polls a job until it is terminal and returns that snapshot.</summary>
    public static Task<JobSnapshot?> UntilTerminal(this IJobGrain job, TimeSpan? timeout = null) =>
        Eventually.Until(job.GetStatusAsync, s => s is { } snap && snap.Status.IsTerminal(), "a terminal status", timeout);

    public static Task<JobSnapshot?> UntilStatus(this IJobGrain job, JobStatus status, TimeSpan? timeout = null) =>
        Eventually.Until(job.GetStatusAsync, s => s?.Status == status, $"status {status}", timeout);
}
