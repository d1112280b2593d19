namespace Praison.Orleans.Testing;

/// <summary>Paths inside the repository, found from the test binaries' location.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>A project's main assembly, built in the same configuration as these tests.</summary>
    public static string BuildOutput(string project, string assembly)
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}")
            ? "Release"
            : "Debug";
        return Path.Combine(Root, project, "bin", configuration, "net10.0", assembly + ".dll");
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Praison.Orleans.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Praison.Orleans.sln not found above " + AppContext.BaseDirectory);
    }
}
