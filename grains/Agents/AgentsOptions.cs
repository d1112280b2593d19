using Microsoft.Extensions.Configuration;

namespace Praison.Orleans.Grains.Agents;

/// <summary>Where <c>agent_file</c> paths may point. Section <c>Agents</c>.</summary>
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
