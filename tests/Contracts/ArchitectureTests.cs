using System.Text.RegularExpressions;

namespace Praison.Orleans.Tests.Contracts;

/// <summary>How the projects' parts may depend on each other, read from the sources.</summary>
public sealed partial class ArchitectureTests
{
    /// <summary>
    /// The gateway knows the cluster by its contracts (grain-interfaces) alone: only <c>gateway/Hosting/</c>,
    /// where it joins the cluster or co-hosts a silo, may name the grains project. A handler that reached
    /// into a grain's implementation would tie every client-mode gateway to the silo's internals.
    /// </summary>
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

    /// <summary>
    /// The grains project's namespaces (one per folder) depend on each other without a cycle, so each
    /// can be read, tested and replaced (a second store, say) from the ones below it.
    /// </summary>
    [Fact]
    public void GrainsNamespaces_DependWithoutACycle()
    {
        var grains = Path.Combine(RepositoryRoot(), "grains");
        var files = Directory.EnumerateFiles(grains, "*.cs", SearchOption.AllDirectories).Where(path => !IsBuildOutput(grains, path)).ToList();
        var namespaces = files.Select(path => OwnNamespace().Match(File.ReadAllText(path))).Where(m => m.Success)
            .Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var uses = namespaces.ToDictionary(n => n, _ => new HashSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var path in files)
        {
            var text = File.ReadAllText(path);
            if (OwnNamespace().Match(text) is not { Success: true } own)
            {
                continue;
            }

            var code = Comment().Replace(text, ""); // a cref is a link, not a dependency
            var used = UsedNamespace().Matches(code).Select(m => m.Groups[1].Value)
                .Concat(QualifiedName().Matches(code).Select(m => m.Groups[1].Value));
            uses[own.Groups[1].Value].UnionWith(used.Where(n => namespaces.Contains(n) && n != own.Groups[1].Value));
        }

        Assert.True(uses.Sum(u => u.Value.Count) > 10, "the scan found the namespaces' uses");
        var cycles = uses.SelectMany(u => u.Value.Where(to => Reaches(uses, to, u.Key)).Select(to => $"{u.Key} -> {to}")).ToList();
        Assert.True(cycles.Count == 0, "Namespaces of grains/ in a cycle: " + string.Join(", ", cycles));
    }

    private static bool Reaches(Dictionary<string, HashSet<string>> uses, string from, string target)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var next = new Stack<string>([from]);
        while (next.TryPop(out var at))
        {
            if (at == target)
            {
                return true;
            }

            foreach (var to in uses[at].Where(seen.Add))
            {
                next.Push(to);
            }
        }

        return false;
    }

    [GeneratedRegex(@"^namespace Praison\.Orleans\.Grains\.(\w+);", RegexOptions.Multiline)]
    private static partial Regex OwnNamespace();

    [GeneratedRegex(@"^using Praison\.Orleans\.Grains\.(\w+);", RegexOptions.Multiline)]
    private static partial Regex UsedNamespace();

    [GeneratedRegex(@"(?<![\w.])([A-Z]\w*)\.[A-Z]\w*")]
    private static partial Regex QualifiedName();

    [GeneratedRegex("//.*")]
    private static partial Regex Comment();

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
