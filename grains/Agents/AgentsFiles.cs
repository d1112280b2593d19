using Microsoft.Extensions.Options;

namespace Praison.Orleans.Grains.Agents;

/// <summary>Reads a job's agents file: inline <c>agent_yaml</c> (which wins) or <c>agent_file</c> under the configured root.</summary>
public sealed class AgentsFiles(IOptions<AgentsOptions> options)
{
    /// <summary>The YAML text and the field it came from; throws <see cref="AgentsFileException"/> when it cannot be had.</summary>
    public (string Yaml, string Field) Load(JobSpec spec)
    {
        if (spec.AgentYaml is { } inline)
        {
            return (inline, "agent_yaml");
        }

        var path = spec.AgentFile!;
        if (options.Value.FileRoot is not { Length: > 0 } root)
        {
            throw new AgentsFileException("agent_file is not accepted here: no Agents:FileRoot is configured (send agent_yaml instead)");
        }

        var rootPath = Path.GetFullPath(root);
        var full = Path.GetFullPath(Path.Combine(rootPath, path));
        if (!full.StartsWith(rootPath.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new AgentsFileException($"agent_file {path} is outside the agents folder");
        }

        return File.Exists(full)
            ? (File.ReadAllText(full), "agent_file")
            : throw new AgentsFileException($"agent_file {path} was not found");
    }
}
