using System.Text.Json;
using System.Text.Json.Nodes;

namespace Praison.Orleans.Grains.Recipes;

/// <summary>
/// Built-in <c>wait</c>: sleeps <c>seconds</c> (default 1) in <c>steps</c> equal steps (default 10),
/// reporting progress after each; fails with <c>fail</c> as its error when that is set. A resumed
/// attempt skips the steps the job already completed.
/// </summary>
public sealed class WaitRecipe(TimeProvider time) : IRecipe
{
    private const double MaxSeconds = 7 * 24 * 3600;
    private const int MaxSteps = 10_000;

    public string Name => "wait";

    public string? ValidateConfig(JsonElement config) => Parse(config).Problem;

    public async Task<RecipeOutput> RunAsync(RecipeContext context, CancellationToken cancellationToken)
    {
        var (settings, _) = Parse(context.Config);
        var stepDelay = TimeSpan.FromSeconds(settings.Seconds / settings.Steps);
        var first = context.Checkpoint.StepsTotal == settings.Steps ? context.Checkpoint.StepsCompleted : 0;
        for (var step = first + 1; step <= settings.Steps; step++)
        {
            await Task.Delay(stepDelay, time, cancellationToken);
            context.Progress.Report(new JobProgress(
                100.0 * step / settings.Steps, $"step {step}/{settings.Steps}", step, settings.Steps));
        }

        if (settings.Fail is { } error)
        {
            throw new RecipeFailedException(error);
        }

        return new RecipeOutput(
            JsonValue.Create($"waited {settings.Seconds:0.###}s"),
            new JsonObject { ["steps"] = settings.Steps });
    }

    private sealed record Settings(double Seconds, int Steps, string? Fail);

    private static (Settings Settings, string? Problem) Parse(JsonElement config)
    {
        var settings = new Settings(1, 10, null);
        if (config.ValueKind != JsonValueKind.Object)
        {
            return (settings, null);
        }

        if (config.TryGetProperty("seconds", out var seconds) && seconds.ValueKind != JsonValueKind.Null)
        {
            if (seconds.ValueKind != JsonValueKind.Number || !seconds.TryGetDouble(out var value)
                || value < 0 || value > MaxSeconds)
            {
                return (settings, $"recipe_config.seconds must be a number from 0 to {MaxSeconds}");
            }

            settings = settings with { Seconds = value };
        }

        if (config.TryGetProperty("steps", out var steps) && steps.ValueKind != JsonValueKind.Null)
        {
            if (steps.ValueKind != JsonValueKind.Number || !steps.TryGetInt32(out var value)
                || value < 1 || value > MaxSteps)
            {
                return (settings, $"recipe_config.steps must be a whole number from 1 to {MaxSteps}");
            }

            settings = settings with { Steps = value };
        }

        if (config.TryGetProperty("fail", out var fail) && fail.ValueKind != JsonValueKind.Null)
        {
            if (fail.ValueKind != JsonValueKind.String)
            {
                return (settings, "recipe_config.fail must be a string (the error message)");
            }

            settings = settings with { Fail = fail.GetString() };
        }

        return (settings, null);
    }
}
