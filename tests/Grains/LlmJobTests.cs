using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Praison.Orleans.Grains.Hosting;
using Praison.Orleans.Grains.Agents;
using Praison.Orleans.Grains.Llm;

namespace Praison.Orleans.Tests.Grains;

/// <summary>A one-silo cluster whose LLM is a <see cref="FakeOpenAiServer"/> on loopback.</summary>
public sealed class LlmClusterFixture : IAsyncLifetime
{
    public FakeOpenAiServer Llm { get; private set; } = null!;

    public InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>The silo's agents folder, holding <c>agents.yaml</c> (<see cref="LlmJobTests.TwoRolesThreeTasks"/>).</summary>
    public string AgentsRoot { get; } = Directory.CreateTempSubdirectory("praison-agents-").FullName;

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(Path.Combine(AgentsRoot, "agents.yaml"), LlmJobTests.TwoRolesThreeTasks);
        await File.WriteAllTextAsync(Path.Combine(AgentsRoot, "broken.yaml"), "roles: [unclosed");
        await File.WriteAllTextAsync(Path.Combine(AgentsRoot, "aliased.yaml"), LlmJobTests.AliasedRoles);
        Directory.CreateSymbolicLink(Path.Combine(AgentsRoot, "link-out"), "/etc");
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
            silo.Services.Configure<AgentsOptions>(o => o.FileRoot = AgentsRoot);
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        await Llm.DisposeAsync();
        Directory.Delete(AgentsRoot, recursive: true);
    }

    public IJobGrain NewJob() =>
        Cluster.Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, JobIds.New()));
}

/// <summary>Prompt jobs against an OpenAI-compatible server speaking the real protocol on loopback.</summary>
public sealed class LlmJobTests(LlmClusterFixture fixture) : IClassFixture<LlmClusterFixture>
{
    /// <summary>Two roles, the second an alias of the first: each alias repeats its whole subtree.</summary>
    public const string AliasedRoles = """
        roles:
          first: &base
            role: Writer
            tasks:
              write:
                description: Write about {topic}
          second: *base
        """;

    public const string TwoRolesThreeTasks = """
        framework: praisonai
        topic: default topic
        roles:
          researcher:
            role: Senior Researcher
            goal: Uncover facts about {topic}
            backstory: You have read every paper on {topic}.
            tasks:
              gather:
                description: List three facts about {topic}
                expected_output: Three bullet points
              check:
                description: Check the facts about {topic}
                expected_output: The facts, verified
          writer:
            role: Writer
            goal: Explain {topic} simply
            backstory: You write for children.
            tasks:
              write:
                description: Write a paragraph about {topic}
                expected_output: One paragraph
        """;

    [Fact]
    public async Task PromptAndAgentsJobsWithParents_GetTheirResultsAsContext_InDependsOnOrder()
    {
        var firstId = await SucceededEchoAsync("first finding");
        var secondId = await SucceededEchoAsync("{\"n\": 2}"); // a string result: given as its text
        var (_, failedId) = await SubmitKnownAsync(Specs.PromptOnly("x") with { AgentFile = "missing.yaml" });
        var topic = "topic-" + Guid.NewGuid().ToString("N");
        var (prompt, _) = await SubmitKnownAsync(Specs.PromptOnly(topic) with { DependsOn = [secondId, firstId, failedId], RunIf = RunIf.Finished });
        var (agents, _) = await SubmitKnownAsync(Specs.PromptOnly(topic + "-agents") with { AgentFile = "agents.yaml", DependsOn = [firstId] });

        Assert.Equal(JobStatus.Succeeded, (await prompt.UntilTerminal())!.Status);
        Assert.Equal(JobStatus.Succeeded, (await agents.UntilTerminal())!.Status);
        var promptCall = Assert.Single(fixture.Llm.Requests, r => r.LastUserMessage.EndsWith(topic, StringComparison.Ordinal));
        Assert.Equal(
            $"Results of the jobs this one depends on:\n[{secondId}]\n{{\"n\": 2}}\n[{firstId}]\nfirst finding\n\n{topic}", // the failed one has no result
            promptCall.LastUserMessage);
        var tasks = fixture.Llm.Requests.Where(r => r.LastUserMessage.Contains(topic + "-agents")).ToList();
        Assert.Equal(3, tasks.Count);
        Assert.All(tasks, task => Assert.Contains($"Results of the jobs this one depends on:\n[{firstId}]\nfirst finding", task.LastUserMessage));
    }

    private async Task<string> SucceededEchoAsync(string prompt)
    {
        var (job, id) = await SubmitKnownAsync(Specs.Recipe("echo", prompt: prompt));
        Assert.Equal(JobStatus.Succeeded, (await job.UntilTerminal())!.Status);
        return id;
    }

    private async Task<(IJobGrain Job, string Id)> SubmitKnownAsync(JobSpec spec)
    {
        var id = JobIds.New();
        var job = fixture.Cluster.Client.GetGrain<IJobGrain>(JobKeys.For(JobKeys.DefaultTenant, id));
        var reply = await job.SubmitAsync(spec);
        Assert.True(reply.Status == SubmitStatus.Accepted, $"{reply.Status}: {reply.Error}");
        return (job, id);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AgentsFile_RunsTasksInOrder_EachSeeingItsRoleAndThePreviousOutputs(bool inline)
    {
        var job = fixture.NewJob();
        var topic = "topic-" + Guid.NewGuid().ToString("N");
        var spec = Specs.PromptOnly(topic) with { AgentYaml = inline ? TwoRolesThreeTasks : null, AgentFile = inline ? null : "agents.yaml" };

        Assert.Equal(SubmitStatus.Accepted, (await job.SubmitAsync(spec)).Status);
        var done = await job.UntilTerminal();

        Assert.Equal(JobStatus.Succeeded, done!.Status);
        Assert.Equal(inline ? "yaml:inline" : "yaml:agents.yaml", done.AgentId);
        Assert.Equal(new JobProgress(100, "done", 3, 3), done.Progress);
        var calls = fixture.Llm.Requests.Where(r => r.LastUserMessage.Contains(topic)).OrderBy(r => r.At).ToList();
        Assert.Equal(3, calls.Count);
        string System(int i) => calls[i].Body["messages"]![0]!["content"]!.ToString();
        Assert.Contains("Senior Researcher", System(0));
        Assert.Contains($"Uncover facts about {topic}", System(0));
        Assert.Contains($"You have read every paper on {topic}.", System(0));
        Assert.Contains("Senior Researcher", System(1));
        Assert.Contains("You write for children.", System(2));
        Assert.StartsWith($"Task: List three facts about {topic}\nExpected output: Three bullet points", calls[0].LastUserMessage);
        Assert.DoesNotContain("Context from the previous tasks", calls[0].LastUserMessage);
        Assert.Contains($"Task: Check the facts about {topic}", calls[1].LastUserMessage);
        Assert.Contains($"[gather]\nEcho: {calls[0].LastUserMessage}", calls[1].LastUserMessage);
        Assert.Contains($"Task: Write a paragraph about {topic}", calls[2].LastUserMessage);
        Assert.Contains("[check]\nEcho: ", calls[2].LastUserMessage);
        var result = await job.GetResultAsync();
        Assert.Equal($"Echo: {calls[2].LastUserMessage}", JsonSerializer.Deserialize<string>(result.Outcome!.ResultJson!));
        Assert.Equal(3, (int)JsonNode.Parse(result.Outcome.MetricsJson)!["tasks"]!);
        Assert.Equal(3 * FakeOpenAiServer.PromptTokens, (int)JsonNode.Parse(result.Outcome.MetricsJson)!["prompt_tokens"]!);
    }

    [Theory]
    [InlineData("roles: [unclosed", "Invalid YAML")]
    [InlineData("just text", "mapping")]
    [InlineData("roles:\n  a:\n    role: A\n    tasks:\n      t:\n        expected_output: x", "description")]
    public async Task InvalidAgentYaml_IsRejectedAtSubmitWithTheReason(string yaml, string reason)
    {
        var job = fixture.NewJob();

        var reply = await job.SubmitAsync(Specs.PromptOnly("x") with { AgentYaml = yaml.Replace("\\n", "\n") });

        Assert.Equal(SubmitStatus.Rejected, reply.Status);
        Assert.Equal("agent_yaml", reply.Field);
        Assert.Contains(reason, reply.Error);
        Assert.Null(await job.GetStatusAsync());
    }

    [Theory]
    [InlineData("../outside.yaml")]
    [InlineData("/etc/passwd")]
    [InlineData("sub/../../outside.yaml")]
    [InlineData("link-out/passwd")] // a symbolic link in the root that points outside it
    public async Task AgentFileOutsideTheRoot_IsRefusedAtSubmitNamingTheRoot(string path)
    {
        var job = fixture.NewJob();

        var reply = await job.SubmitAsync(Specs.PromptOnly("x") with { AgentFile = path });

        Assert.Equal(SubmitStatus.Unreadable, reply.Status);
        Assert.Equal($"agent_file must be within Agents:FileRoot ({fixture.AgentsRoot})", reply.Error);
        Assert.Null(await job.GetStatusAsync());
    }

    [Fact]
    public async Task MissingAgentFile_IsAccepted_AndTheJobFailsSayingSo()
    {
        var job = fixture.NewJob();

        var reply = await job.SubmitAsync(Specs.PromptOnly("x") with { AgentFile = "missing.yaml" });
        var done = await job.UntilTerminal();

        Assert.Equal(SubmitStatus.Accepted, reply.Status);
        Assert.Equal((JobStatus.Failed, "agent_file not found: missing.yaml"), (done!.Status, done.Error));
    }

    [Fact]
    public async Task AgentFileWithAnAlias_IsAccepted_AndTheJobFailsWithoutCallingTheLlm()
    {
        var job = fixture.NewJob();
        var calls = fixture.Llm.Requests.Count;

        var reply = await job.SubmitAsync(Specs.PromptOnly("x") with { AgentFile = "aliased.yaml" });
        var done = await job.UntilTerminal();

        Assert.Equal(SubmitStatus.Accepted, reply.Status); // an agent_file is read when it runs, as PraisonAI does
        Assert.Equal(JobStatus.Failed, done!.Status);
        Assert.Equal("Invalid YAML: aliases (*base) are not allowed in an agents file; write each role and task out.", done.Error);
        Assert.Equal(calls, fixture.Llm.Requests.Count);
    }

    [Fact]
    public async Task AgentFileWithInvalidYaml_IsAccepted_AndTheJobFailsWithTheParsersMessage()
    {
        var job = fixture.NewJob();

        var reply = await job.SubmitAsync(Specs.PromptOnly("x") with { AgentFile = "broken.yaml" });
        var done = await job.UntilTerminal();

        Assert.Equal(SubmitStatus.Accepted, reply.Status);
        Assert.Equal(JobStatus.Failed, done!.Status);
        Assert.StartsWith("Invalid YAML:", done.Error);
    }

    [Fact]
    public async Task PromptJob_TokenUsage_IsMeasuredByTheChatClientInstrumentation()
    {
        var measured = new System.Collections.Concurrent.ConcurrentQueue<(long Tokens, string? Type)>();
        using var listener = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == LlmClient.TelemetrySourceName && instrument.Name == "gen_ai.client.token.usage")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) => measured.Enqueue((value, TypeOf(tags))));
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) => measured.Enqueue((value, TypeOf(tags))));
        listener.Start();
        var job = fixture.NewJob();

        await job.SubmitAsync(Specs.PromptOnly("count my tokens " + Guid.NewGuid().ToString("N")));
        Assert.Equal(JobStatus.Succeeded, (await job.UntilTerminal())!.Status);

        // Other tests of this process may call an LLM too: this job's usage is among what was measured.
        Assert.Contains((FakeOpenAiServer.PromptTokens, "input"), measured);
        Assert.Contains((FakeOpenAiServer.CompletionTokens, "output"), measured);

        static string? TypeOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "gen_ai.token.type")
                {
                    return tag.Value as string;
                }
            }

            return null;
        }
    }

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
