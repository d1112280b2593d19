using System.Collections.Concurrent;
using System.Text.Json;
using Praison.Orleans.Grains.Recipes;

namespace Praison.Orleans.Tests.Infrastructure;

/// <summary>
/// A recipe registered on the test silos that records what happens to it in <see cref="ProbeLedger"/>:
/// when each job starts and on which silo, how many probes of one scope run at once on a silo, when
/// the token fired and when the work really returned. Config:
/// <c>{"scope": "...", "seconds": 0.2, "late_result": "text", "report_on_cancel": true}</c> — runs
/// <c>seconds</c> (default forever, until cancelled); with <c>late_result</c> it answers cancellation by
/// returning that value 300 ms later instead of throwing, as a careless recipe would; with
/// <c>report_on_cancel</c> it reports progress when its token fires, as a recipe winding down might;
/// with <c>gate</c> it runs until the test opens that gate (<see cref="ProbeLedger.Open"/>) instead of for
/// <c>seconds</c>; with <c>fail</c> it then fails with that error instead of succeeding. Each run records
/// how the jobs it depends on had ended (<see cref="ProbeRun.Parents"/>).
/// </summary>
public sealed class ProbeRecipe(ILocalSiloDetails silo) : IRecipe
{
    public const string RecipeName = "probe";

    public string Name => RecipeName;

    public async Task<RecipeOutput> RunAsync(RecipeContext context, CancellationToken cancellationToken)
    {
        var config = context.Config;
        var scope = config.TryGetProperty("scope", out var s) ? s.GetString()! : "default";
        var seconds = config.TryGetProperty("seconds", out var d) ? d.GetDouble() : (double?)null;
        var lateResult = config.TryGetProperty("late_result", out var l) ? l.GetString() : null;
        var reportOnCancel = config.TryGetProperty("report_on_cancel", out var r) && r.GetBoolean();
        var gate = config.TryGetProperty("gate", out var g) ? g.GetString() : null;
        var fail = config.TryGetProperty("fail", out var f) ? f.GetString() : null;
        var run = ProbeLedger.Start(scope, context.JobId, silo.SiloAddress.ToParsableString(), context.Attempt);
        run.Parents = context.Parents;
        try
        {
            try
            {
                await (gate is not null ? ProbeLedger.Gate(gate).WaitAsync(cancellationToken)
                    : Task.Delay(seconds is { } value ? TimeSpan.FromSeconds(value) : Timeout.InfiniteTimeSpan, cancellationToken));
            }
            catch (OperationCanceledException)
            {
                run.CancelObservedAt = DateTimeOffset.UtcNow;
                if (reportOnCancel)
                {
                    context.Progress.Report(new JobProgress(50, "reported after the token fired", 1, 2));
                    run.ReportedAfterCancelAt = DateTimeOffset.UtcNow;
                }

                if (lateResult is null)
                {
                    throw;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(300), CancellationToken.None);
                return RecipeOutput.FromText(lateResult);
            }

            return fail is not null ? throw new RecipeFailedException(fail) : RecipeOutput.FromText($"probe {context.JobId} done");
        }
        finally
        {
            ProbeLedger.Finish(scope, run);
        }
    }
}

/// <summary>One probe run, as the recipe saw it.</summary>
public sealed class ProbeRun(string jobId, string silo, int attempt, DateTimeOffset startedAt)
{
    public string JobId { get; } = jobId;
    public string Silo { get; } = silo;
    public int Attempt { get; } = attempt;
    public DateTimeOffset StartedAt { get; } = startedAt;
    public DateTimeOffset? CancelObservedAt { get; set; }
    public DateTimeOffset? ReportedAfterCancelAt { get; set; }
    public DateTimeOffset? ReturnedAt { get; set; }
    public IReadOnlyList<JobEnd> Parents { get; set; } = [];
}

/// <summary>What probe runs recorded, per test scope. Thread-safe; shared by the in-process silos.</summary>
public static class ProbeLedger
{
    private static readonly ConcurrentDictionary<string, Scope> Scopes = new();
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Gates = new();

    /// <summary>The gate probes with <c>gate</c> <paramref name="name"/> wait at.</summary>
    public static Task Gate(string name) => Gates.GetOrAdd(name, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Lets every probe waiting at gate <paramref name="name"/>, and every one that comes later, go on.</summary>
    public static void Open(string name) => Gates.GetOrAdd(name, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    public static ProbeRun Start(string scope, string jobId, string silo, int attempt)
    {
        var entry = Scopes.GetOrAdd(scope, _ => new Scope());
        var run = new ProbeRun(jobId, silo, attempt, DateTimeOffset.UtcNow);
        lock (entry)
        {
            entry.Runs.Add(run);
            var running = entry.Running.GetValueOrDefault(silo) + 1;
            entry.Running[silo] = running;
            entry.MaxRunning[silo] = Math.Max(entry.MaxRunning.GetValueOrDefault(silo), running);
            entry.MaxAtOnce = Math.Max(entry.MaxAtOnce, entry.Running.Values.Sum());
        }

        return run;
    }

    public static void Finish(string scope, ProbeRun run)
    {
        var entry = Scopes[scope];
        lock (entry)
        {
            run.ReturnedAt = DateTimeOffset.UtcNow;
            entry.Running[run.Silo]--;
        }
    }

    public static IReadOnlyList<ProbeRun> Runs(string scope)
    {
        if (!Scopes.TryGetValue(scope, out var entry))
        {
            return [];
        }

        lock (entry)
        {
            return entry.Runs.ToList();
        }
    }

    /// <summary>The most probes of <paramref name="scope"/> that ever ran at once on any one silo.</summary>
    public static int MaxRunningOnOneSilo(string scope)
    {
        if (!Scopes.TryGetValue(scope, out var entry))
        {
            return 0;
        }

        lock (entry)
        {
            return entry.MaxRunning.Values.DefaultIfEmpty(0).Max();
        }
    }

    /// <summary>The most probes of <paramref name="scope"/> that ever ran at once, all silos together.</summary>
    public static int MaxRunningAtOnce(string scope)
    {
        if (!Scopes.TryGetValue(scope, out var entry))
        {
            return 0;
        }

        lock (entry)
        {
            return entry.MaxAtOnce;
        }
    }

    private sealed class Scope
    {
        public int MaxAtOnce { get; set; }

        public List<ProbeRun> Runs { get; } = [];
        public Dictionary<string, int> Running { get; } = [];
        public Dictionary<string, int> MaxRunning { get; } = [];
    }

    /// <summary>A fresh scope name, so tests never see each other's probes.</summary>
    public static string NewScope() => Guid.NewGuid().ToString("N");

    /// <summary>A probe's <c>recipe_config</c> as JSON text.</summary>
    public static string Config(
        string scope, double? seconds = null, string? lateResult = null, bool reportOnCancel = false, string? gate = null, string? fail = null) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["scope"] = scope,
            ["seconds"] = seconds,
            ["late_result"] = lateResult,
            ["report_on_cancel"] = reportOnCancel ? true : null,
            ["gate"] = gate,
            ["fail"] = fail,
        }.Where(p => p.Value is not null).ToDictionary());
}
