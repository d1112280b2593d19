using System.Diagnostics;

namespace Praison.Orleans.Tests.Client;

/// <summary>
/// The client's sample (<c>client/sample</c>) published native AOT — zero warnings, so the client is
/// trimming- and AOT-safe — and the native program run against the real gateway: it submits, draws the
/// job's progress and prints its result.
/// </summary>
[Collection(JobsClusterCollection.Name)]
public sealed class SampleAotTests(JobsClusterFixture fixture)
{
    [Fact]
    public async Task TheSample_PublishesNativeAotWithoutAWarning_AndRunsAJobToItsResult()
    {
        var output = Path.Combine(Path.GetTempPath(), "praison-sample-" + Guid.NewGuid().ToString("N"));
        try
        {
            var publish = await RunAsync("dotnet", TimeSpan.FromMinutes(10),
                "publish", Path.Combine(RepoPaths.Root, "client", "sample"), "-c", "Release", "-o", output, "-nologo", "-clp:NoSummary");
            Assert.True(publish.ExitCode == 0, publish.Output);
            Assert.DoesNotContain("warning", publish.Output, StringComparison.OrdinalIgnoreCase);
            var program = Path.Combine(output, "Praison.Orleans.Client.Sample");
            Assert.True(File.Exists(program), $"no native program at {program}:\n{publish.Output}");
            Assert.False(File.Exists(Path.Combine(output, "Praison.Orleans.Client.Sample.dll")), "published as IL, not native");

            var run = await RunAsync(program, TimeSpan.FromMinutes(2), fixture.Http.BaseAddress!.ToString(), "from the sample");

            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Contains("100% step 10/10", run.Output);
            Assert.Contains("succeeded: waited 3s", run.Output);
        }
        finally
        {
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, TimeSpan bound, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var (stdout, stderr) = (process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
        using var timeout = new CancellationTokenSource(bound);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not end within {bound}:\n{await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
