using Microsoft.Extensions.Configuration;

namespace Praison.Orleans.Grains.Agents;

/// <summary>Where <c>agent_file</c> paths may point, and how big an agents file may be. Section <c>Agents</c>.</summary>
public sealed class AgentsOptions
{
    public const string Section = "Agents";

    /// <summary>The environment variable PraisonAI's Jobs server confines <c>agent_file</c> to.</summary>
    public const string RootVariable = "PRAISONAI_JOBS_AGENT_ROOT";

    /// <summary>
    /// The folder (on the silos) that <c>agent_file</c> paths are resolved against and confined to:
    /// nothing outside it is read, by absolute path, <c>..</c> or symbolic link. Default: the environment
    /// variable <c>PRAISONAI_JOBS_AGENT_ROOT</c>, else the silo's working directory (as PraisonAI does).
    /// </summary>
    public string? FileRoot { get; set; }

    /// <summary>What set <see cref="FileRoot"/>, as errors name it.</summary>
    public string RootName { get; set; } = "Agents:FileRoot";

    /// <summary>
    /// The most tasks an agents file may have, all roles together: each is an LLM call whose prompt carries
    /// the outputs of the tasks before it. More is a 422 at submit (inline) or a failed job. Default: 100.
    /// </summary>
    public int MaxTasks { get; set; } = 100;

    public IEnumerable<string> Problems()
    {
        if (MaxTasks is < 1 or > 10_000)
        {
            yield return $"Agents:MaxTasks must be 1–10000, not {MaxTasks}.";
        }
    }

    /// <summary>Fills <see cref="FileRoot"/> from PraisonAI's variable or the working directory when it is not configured.</summary>
    public static void ApplyDefaults(AgentsOptions options, IConfiguration configuration)
    {
        if (options.FileRoot is { Length: > 0 })
        {
            return;
        }

        (options.FileRoot, options.RootName) = configuration[RootVariable] is { Length: > 0 } root
            ? (root, RootVariable)
            : (Directory.GetCurrentDirectory(), "the silo's working directory");
    }
}
