using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Praison.Orleans.Grains.Hosting;
using Praison.Orleans.Grains.Llm;

namespace Praison.Orleans.Tests.Grains;

/// <summary>A one-silo cluster whose LLM is a <see cref="FakeOpenAiServer"/> on loopback.</summary>
public sealed class LlmClusterFixture : IAsyncLifetime
{
    public FakeOpenAiServer Llm { get; private set; } = null!;

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Llm = await FakeOpenAiServer.StartAsync();
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.UseInMemoryJobStorage().AddPraisonJobs();
            silo.Services.Configure<LlmOptions>(o =>
            {
                o.BaseUrl = Llm.BaseUrl;
                o.ApiKey = "test-key";
                o.Model = "test-model";
                o.FirstRetryDelay = TimeSpan.FromMilliseconds(50);
            });
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        await Llm.DisposeAsync();
    }

    public IJobGrain NewJob() =>
        Cluster.Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, "run_" + Guid.NewGuid().ToString("N")[..12]));
}

/// <summary>Prompt jobs against an OpenAI-compatible server speaking the real protocol on loopback.</summary>
public sealed class LlmJobTests(LlmClusterFixture fixture) : IClassFixture<LlmClusterFixture>
{
    [Fact]
    public async Task PromptJob_StreamsTheCompletion_AndReportsUsage()
    {
        var job = fixture.NewJob();
        var prompt = "write a haiku " + Guid.NewGuid().ToString("N");

        await job.SubmitAsync(Specs.PromptOnly(prompt) with { ConfigJson = """{"system_prompt":"You are terse."}""" });
        var done = await job.UntilTerminal();

        Assert.Equal(JobStatus.Succeeded, done!.Status);
        var result = await job.GetResultAsync();
        Assert.Equal($"Echo: {prompt}", JsonSerializer.Deserialize<string>(result.Outcome!.ResultJson!));
        var metrics = JsonNode.Parse(result.Outcome.MetricsJson)!;
        Assert.Equal("test-model", (string)metrics["model"]!);
        Assert.Equal(FakeOpenAiServer.PromptTokens, (int)metrics["prompt_tokens"]!);
        Assert.Equal(FakeOpenAiServer.CompletionTokens, (int)metrics["completion_tokens"]!);
        var request = Assert.Single(fixture.Llm.Requests, r => r.LastUserMessage == prompt);
        Assert.True((bool)request.Body["stream"]!);
        Assert.Equal("test-model", (string)request.Body["model"]!);
        var messages = request.Body["messages"]!.AsArray();
        Assert.Equal(["system", "user"], messages.Select(m => (string)m!["role"]!));
        Assert.Contains("You are terse.", messages[0]!["content"]!.ToString());
    }

    [Fact]
    public async Task RateLimitedOnce_IsRetriedAndSucceeds()
    {
        var job = fixture.NewJob();

        await job.SubmitAsync(Specs.PromptOnly("status:429-once"));
        var done = await job.UntilTerminal();

        Assert.Equal(JobStatus.Succeeded, done!.Status);
        var attempts = fixture.Llm.Requests.Where(r => r.LastUserMessage == "status:429-once").ToList();
        Assert.Equal(2, attempts.Count);
        Assert.True(attempts[1].At - attempts[0].At >= TimeSpan.FromSeconds(0.9), "the retry honoured Retry-After: 1");
    }

    [Fact]
    public async Task Unauthorized_FailsTheJobWithAClearError()
    {
        var job = fixture.NewJob();

        await job.SubmitAsync(Specs.PromptOnly("status:401"));
        var done = await job.UntilTerminal();

        Assert.Equal(JobStatus.Failed, done!.Status);
        Assert.Contains("HTTP 401", done.Error);
        Assert.Single(fixture.Llm.Requests, r => r.LastUserMessage == "status:401");
    }

    [Fact]
    public async Task CancelDuringASlowStream_ClosesTheHttpRequestWithinOneSecond()
    {
        var job = fixture.NewJob();
        await job.SubmitAsync(Specs.PromptOnly("slow"));
        var request = await Eventually.Until(
            () => Task.FromResult(fixture.Llm.Requests.LastOrDefault(r => r.LastUserMessage == "slow" && r.AbortedAt is null)),
            r => r is not null,
            "the slow stream to start");
        await job.UntilStatus(JobStatus.Running);

        var cancelledAt = DateTimeOffset.UtcNow;
        await job.CancelAsync();

        await Eventually.Until(() => request!.AbortedAt is not null, "the server to see the request closed");
        Assert.InRange(request!.AbortedAt!.Value - cancelledAt, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        Assert.Equal(JobStatus.Cancelled, (await job.GetStatusAsync())!.Status);
    }
}
