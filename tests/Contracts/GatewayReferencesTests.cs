using System.Text.RegularExpressions;

namespace Praison.Orleans.Tests.Contracts;

/// <summary>
/// The gateway knows the cluster by its contracts (grain-interfaces) alone: only <c>gateway/Hosting/</c>,
/// where it joins the cluster or co-hosts a silo, may name the grains project. A handler that reached
/// into a grain's implementation would tie every client-mode gateway to the silo's internals.
/// </summary>
public sealed partial class GatewayReferencesTests
{
    [Fact]
    public void OnlyGatewayHosting_NamesTheGrainsProject()
    {
        var gateway = Path.Combine(RepositoryRoot(), "gateway");
        var sources = Directory.EnumerateFiles(gateway, "*.cs", SearchOption.AllDirectories)
            .Where(path => !IsBuildOutput(gateway, path))
            .ToList();

        var offenders = sources
            .Where(path => !Path.GetRelativePath(gateway, path).StartsWith("Hosting" + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .SelectMany(path => File.ReadLines(path).Select((line, i) => (path, line, number: i + 1)))
            .Where(hit => GrainsNamespace().IsMatch(hit.line))
            .Select(hit => $"{Path.GetRelativePath(gateway, hit.path)}:{hit.number}: {hit.line.Trim()}")
            .ToList();

        Assert.True(sources.Count > 20, $"only {sources.Count} gateway sources found under {gateway}");
        Assert.Contains(sources, path => File.ReadAllText(path).Contains("Praison.Orleans.Grains.Hosting", StringComparison.Ordinal)); // the scan sees a real use
        Assert.True(offenders.Count == 0, "The grains project is named outside gateway/Hosting:\n" + string.Join("\n", offenders));
    }

    private static bool IsBuildOutput(string project, string path) =>
        Path.GetRelativePath(project, path).Split(Path.DirectorySeparatorChar)[0] is "bin" or "obj";

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Praison.Orleans.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Praison.Orleans.sln above {AppContext.BaseDirectory}");
    }

    // The namespace, or a name qualified from it (Grains.Jobs.X inside Praison.Orleans; not a member called Grains).
    [GeneratedRegex(@"\bPraison\.Orleans\.Grains\b|(?<![\w.])Grains\.[A-Z]\w*\.[A-Z]")]
    private static partial Regex GrainsNamespace();
}
