using Microsoft.Extensions.Options;

namespace Praison.Orleans.Grains.Agents;

/// <summary>
/// Reads a job's agents file: inline <c>agent_yaml</c> (which wins) or <c>agent_file</c>, resolved as
/// PraisonAI does against <see cref="AgentsOptions.FileRoot"/> and confined to it by its real path.
/// </summary>
public sealed class AgentsFileReader(IOptions<AgentsOptions> options)
{
    /// <summary>The largest agents file read.</summary>
    public const long MaxFileBytes = 1024 * 1024;

    /// <summary>
    /// The YAML text and the field it came from; null text for an <c>agent_file</c> that does not exist or
    /// cannot be read (the job is accepted and fails saying so, as PraisonAI's does). Throws
    /// <see cref="AgentsFileException"/> for a path outside the root or a file over <see cref="MaxFileBytes"/>.
    /// </summary>
    public (string? Yaml, string Field) Load(JobSpec spec)
    {
        if (spec.AgentYaml is { } inline)
        {
            return (inline, "agent_yaml");
        }

        var (root, rootName) = (RealPath(Path.GetFullPath(options.Value.FileRoot!)), options.Value.RootName);
        string path;
        try
        {
            path = RealPath(Path.GetFullPath(Path.Combine(root, spec.AgentFile!)));
        }
        catch (Exception exception) when (exception is ArgumentException or NotSupportedException or IOException)
        {
            throw new AgentsFileException("agent_file is not a valid path"); // e.g. a NUL character
        }

        if (!path.StartsWith(root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new AgentsFileException($"agent_file must be within {rootName} ({root})");
        }

        try
        {
            if (new FileInfo(path).Length > MaxFileBytes)
            {
                throw new AgentsFileException($"agent_file is larger than {MaxFileBytes} bytes");
            }

            return (File.ReadAllText(path), "agent_file");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return (null, "agent_file");
        }
    }

    /// <summary>The reason a job whose <c>agent_file</c> could not be read fails with.</summary>
    public static string NotFound(JobSpec spec) => $"agent_file not found: {spec.AgentFile}";

    /// <summary>
    /// <paramref name="fullPath"/> with every symbolic link along it resolved, so confinement is judged on
    /// where the file really is. Components that do not exist are kept as they are.
    /// </summary>
    private static string RealPath(string fullPath)
    {
        var resolved = Path.GetPathRoot(fullPath)!;
        foreach (var part in fullPath[resolved.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Combine(resolved, part);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            resolved = info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target
                ? RealPath(target.FullName)
                : next;
        }

        return resolved;
    }
}
