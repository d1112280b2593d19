using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Praison.Orleans.Gateway;
using Praison.Orleans.Gateway.Auth;
using Orleans.Diagnostics;
using Praison.Orleans.Grains.Agents;
using Praison.Orleans.Grains.Jobs;
using Praison.Orleans.Grains.Telemetry;

namespace Praison.Orleans.Tests.Http;

/// <summary>
/// The embedded default — what <c>dotnet run --project gateway</c> starts: one process co-hosting a
/// silo with in-memory storage. Ports are free ones, so the tests run beside anything on 8005.
/// </summary>
public sealed class EmbeddedGatewayTests
{
    [Fact]
    public async Task DefaultAddress_IsLoopbackPort8005()
    {
        await using var app = GatewayApp.Build([]);

        Assert.Equal("http://127.0.0.1:8005", app.Configuration["urls"]);
    }

    [Fact]
    public async Task Embedded_ServesJobsAndHonoursMaxConcurrentVariable()
    {
        await using var app = BuildEmbedded(out var url, "--PRAISONAI_MAX_CONCURRENT_JOBS=3");
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(url) };

        var health = await http.GetFromJsonAsync<JsonObject>("/health");
        var submit = await http.PostAsJsonAsync("/api/v1/runs", new { prompt = "embedded", recipe_name = "echo" });
        var jobId = (string)(await submit.Content.ReadFromJsonAsync<JsonObject>())!["job_id"]!;
        var status = await Eventually.Until(
            () => http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{jobId}"),
            s => (string?)s!["status"] == "succeeded",
            "the echo job to succeed");

        Assert.Equal(1, (int)health!["cluster"]!["silos"]!);
        Assert.Equal(3, (int)health["executor_stats"]!["max_concurrent"]!);
        Assert.Equal("embedded", (string)(await http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{jobId}/result"))!["result"]!);
        Assert.Equal(jobId, (string)status!["job_id"]!);
        await app.StopAsync();
    }

    [Fact]
    public async Task WithTwoTenants_AndDefaultSettings_OnesJobStartsAtOnce_WhileTheOthersLongJobsWouldFillEverySlot()
    {
        const string acme = "acme-fairness-key", globex = "globex-fairness-key";
        await using var app = BuildEmbedded(
            out var url,
            $"--Auth:Tenants:acme:KeySha256:0={Convert.ToHexString(ApiKeyRing.Digest(acme))}",
            $"--Auth:Tenants:globex:KeySha256:0={Convert.ToHexString(ApiKeyRing.Digest(globex))}");
        await app.StartAsync();
        using var acmeHttp = new HttpClient { BaseAddress = new Uri(url), DefaultRequestHeaders = { { "X-API-Key", acme } } };
        using var globexHttp = new HttpClient { BaseAddress = new Uri(url), DefaultRequestHeaders = { { "X-API-Key", globex } } };

        // Ten-minute jobs, as many as the silo has slots (10 by default): alone, acme would hold every one.
        var longJobs = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            longJobs.Add(await acmeHttp.SubmitJobAsync(new { prompt = "x", recipe_name = "wait", recipe_config = new { seconds = 600 } }));
        }

        await Eventually.Until(
            async () => (await Task.WhenAll(longJobs.Select(id => acmeHttp.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{id}")))).Count(s => (string?)s!["status"] == "running"),
            running => running == 9,
            "nine of acme's jobs to run (a tenth of the slots kept for other tenants)");
        var queued = await acmeHttp.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{longJobs[^1]}");

        var echo = await globexHttp.SubmitJobAsync(new { prompt = "fair", recipe_name = "echo" });
        await globexHttp.UntilStatusAsync(echo, "succeeded");

        Assert.Equal(("queued", "slot"), ((string?)queued!["status"], (string?)queued["waiting"]));
        Assert.Equal("queued", (string?)(await acmeHttp.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{longJobs[^1]}"))!["status"]);
        await app.StopAsync();
    }

    [Fact]
    public async Task Embedded_InvalidMaxConcurrentVariable_FailsAtStartNamingIt()
    {
        await using var app = BuildEmbedded(out _, "--PRAISONAI_MAX_CONCURRENT_JOBS=lots");

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("PRAISONAI_MAX_CONCURRENT_JOBS", error.Message);
    }

    [Fact]
    public async Task Embedded_PraisonAIsAgentRootVariable_ConfinesAndResolvesAgentFiles()
    {
        var root = Directory.CreateTempSubdirectory("praison-agent-root-").FullName;
        await File.WriteAllTextAsync(Path.Combine(root, "agents.yaml"), "roles: [unclosed");
        await using var app = BuildEmbedded(out var url, $"--{AgentsOptions.RootVariable}={root}");
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(url) };

        var outside = await http.PostAsJsonAsync("/api/v1/runs", new { prompt = "x", agent_file = "../elsewhere.yaml" });
        var inside = await http.PostAsJsonAsync("/api/v1/runs", new { prompt = "x", agent_file = "agents.yaml" });

        Assert.Equal(HttpStatusCode.BadRequest, outside.StatusCode);
        Assert.Equal($"agent_file must be within PRAISONAI_JOBS_AGENT_ROOT ({root})",
            (string)(await outside.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!);
        Assert.Equal(HttpStatusCode.Accepted, inside.StatusCode);
        var jobId = (string)(await inside.Content.ReadFromJsonAsync<JsonObject>())!["job_id"]!;
        var failed = await http.UntilStatusAsync(jobId, "failed");
        Assert.StartsWith("Invalid YAML:", (string)failed["error"]!); // read from the root, parsed when run
        await app.StopAsync();
    }

    [Fact]
    public async Task Embedded_PrometheusMetrics_AreOffByDefault_AndWhenOnShowTheJobsBehindTheKey()
    {
        await using (var plain = BuildEmbedded(out var plainUrl))
        {
            await plain.StartAsync();
            using var http = new HttpClient { BaseAddress = new Uri(plainUrl) };
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/metrics")).StatusCode);
            await plain.StopAsync();
        }

        await using var app = BuildEmbedded(out var url, "--Metrics:Prometheus=true", "--PRAISONAI_JOBS_API_KEY=metrics-key");
        await app.StartAsync();
        using var keyed = new HttpClient { BaseAddress = new Uri(url) };
        keyed.DefaultRequestHeaders.Add("X-API-Key", "metrics-key");
        var jobId = await keyed.SubmitJobAsync(new { prompt = "counted", recipe_name = "echo" });
        await keyed.UntilStatusAsync(jobId, "succeeded");

        using var anonymous = new HttpClient { BaseAddress = new Uri(url) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/metrics")).StatusCode);
        var text = await Eventually.Until(
            () => keyed.GetStringAsync("/metrics"),
            metrics => metrics.Contains("praison_jobs_ended_total{", StringComparison.Ordinal),
            "the job's end in the metrics");
        // At least this job: the listener is process-wide, and other test clusters in this process run echo jobs too.
        Assert.Matches(@"praison_jobs_submitted_total\{[^}]*kind=""echo""[^}]*\} [1-9]", text);
        Assert.Matches(@"praison_jobs_ended_total\{[^}]*kind=""echo""[^}]*status=""succeeded""[^}]*\} [1-9]", text);
        Assert.Contains("praison_jobs_queue_wait_seconds_bucket{", text);
        Assert.Contains("praison_jobs_running{", text);
        Assert.Contains("http_server_request_duration_seconds_bucket{", text); // ASP.NET Core's own
        await app.StopAsync();
    }

    [Fact]
    public async Task Embedded_PrometheusMetrics_WithTenants_AreTheOperatorKeysOnly()
    {
        // /metrics counts every tenant's jobs: a tenant's key may not read it, the operator's reads only it.
        await using var app = BuildEmbedded(out var url, "--Metrics:Prometheus=true",
            $"--Auth:Tenants:acme:KeySha256:0={Convert.ToHexString(Praison.Orleans.Gateway.Auth.ApiKeyRing.Digest("acme-key"))}",
            $"--Auth:MetricsKeySha256:0={Convert.ToHexString(Praison.Orleans.Gateway.Auth.ApiKeyRing.Digest("scrape-key"))}");
        await app.StartAsync();
        using var tenant = new HttpClient { BaseAddress = new Uri(url) };
        tenant.DefaultRequestHeaders.Add("X-API-Key", "acme-key");
        using var scraper = new HttpClient { BaseAddress = new Uri(url) };
        scraper.DefaultRequestHeaders.Authorization = new("Bearer", "scrape-key");

        using var tenantsScrape = await tenant.GetAsync("/metrics");
        using var scrape = await scraper.GetAsync("/metrics");
        using var scrapersList = await scraper.GetAsync("/api/v1/runs");

        Assert.Equal(HttpStatusCode.Forbidden, tenantsScrape.StatusCode);
        Assert.Contains("Auth:MetricsKeySha256", (string)(await tenantsScrape.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!);
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.Contains("# TYPE ", await scrape.Content.ReadAsStringAsync()); // Prometheus text
        Assert.Equal(HttpStatusCode.Forbidden, scrapersList.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await tenant.GetAsync("/api/v1/runs")).StatusCode);
        await app.StopAsync();
    }

    [Fact]
    public async Task Embedded_OrleansDashboard_OnAKeylessNonLoopbackGateway_IsServed_AndTheJobsApiStaysClosed()
    {
        // The documented deployment: a gateway of its own, no keys, a private (non-loopback) address.
        await using var app = BuildEmbedded(
            out var url, services => services.AddSingleton(new Praison.Orleans.Gateway.Auth.BindAddresses(() => ["http://10.0.0.5:8005"])),
            "--Cluster:OrleansDashboard=true");
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(url) };

        using var page = await http.GetAsync("/orleans/");
        using var counters = await http.GetAsync("/orleans/DashboardCounters");
        using var runs = await http.GetAsync("/api/v1/runs");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal(HttpStatusCode.OK, counters.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, runs.StatusCode);
        Assert.Equal("""{"error":"PRAISONAI_JOBS_API_KEY required for non-localhost binding"}""", await runs.Content.ReadAsStringAsync());
        await app.StopAsync();
    }

    [Fact]
    public async Task Embedded_AJobsTrace_SpansTheSubmitRequestTheGrainCallAndTheRun()
    {
        var stopped = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is JobTracing.SourceName or "Microsoft.AspNetCore"
                || source.Name == ActivitySources.ApplicationGrainActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Add,
        };
        ActivitySource.AddActivityListener(listener);
        // Traces are on when they go somewhere: an OTLP endpoint (a closed loopback port; the spans are read here).
        await using var app = BuildEmbedded(out var url, $"--{TelemetryHosting.OtlpEndpointVariable}=http://127.0.0.1:{FreePorts.Take(1)[0]}");
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(url) };

        var jobId = await http.SubmitJobAsync(new { prompt = "", recipe_name = "wait", recipe_config = new { seconds = 0.1, steps = 1 } });
        await http.UntilStatusAsync(jobId, "succeeded");

        var run = await Eventually.Until(
            () => Task.FromResult(stopped.FirstOrDefault(a => a.OperationName == "job.run" && (string?)a.GetTagItem("job.id") == jobId)),
            a => a is not null, "the job's run span");
        var trace = stopped.Where(a => a.TraceId == run!.TraceId).ToList();
        Assert.Contains(trace, a => a.Source.Name == "Microsoft.AspNetCore" && a.Kind == ActivityKind.Server); // the submit request
        Assert.Contains(trace, a => a.DisplayName == "IJobGrain/SubmitAsync"); // the grain call it made
        Assert.Equal(("wait", 1), ((string?)run!.GetTagItem("job.kind"), (int?)run.GetTagItem("job.attempt")));
        await app.StopAsync();
    }

    [Fact]
    public async Task Embedded_OrleansDashboard_WhenEnabled_ServesThePageAndTheClustersGrains()
    {
        await using var app = BuildEmbedded(out var url, "--Cluster:OrleansDashboard=true");
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        var jobId = await http.SubmitJobAsync(new { prompt = "", recipe_name = "wait", recipe_config = new { seconds = 30 } });
        await http.UntilStatusAsync(jobId, "running");

        using var page = await http.GetAsync("/orleans/");
        var counters = await Eventually.Until(
            () => http.GetStringAsync("/orleans/DashboardCounters"),
            body => body.Contains(typeof(JobGrain).FullName!, StringComparison.Ordinal),
            "the dashboard to count the running job's grain");
        using var trace = await http.GetAsync("/orleans/Trace");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"siloStatus\"", counters, StringComparison.Ordinal);
        Assert.NotEqual(HttpStatusCode.OK, trace.StatusCode); // no live log stream: logs carry job details
        await app.StopAsync();
    }

    [Fact]
    public async Task Embedded_OrleansDashboard_IsNotServedUnlessEnabled()
    {
        await using var app = BuildEmbedded(out var url);
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(url) };

        using var page = await http.GetAsync("/orleans/");

        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        await app.StopAsync();
    }

    [Fact]
    public void Embedded_OrleansDashboardWithApiKeys_IsRefusedAtStart()
    {
        // It shows every tenant's grains: no tenant's key may open it.
        var error = Assert.Throws<InvalidOperationException>(() =>
            BuildEmbedded(out _, "--Cluster:OrleansDashboard=true", "--PRAISONAI_JOBS_API_KEY=some-key"));

        Assert.Contains("Cluster:OrleansDashboard shows every tenant's grains", error.Message);
    }

    [Fact]
    public void Embedded_JoiningASecondMemorySilo_IsRefusedNamingTheSetting()
    {
        // Memory mode keeps job records in its one silo's memory: a second silo could not see them.
        var error = Assert.Throws<InvalidOperationException>(() => GatewayApp.Build(["--Cluster:PrimarySiloEndpoint=127.0.0.1:11111"]));

        Assert.Contains("Cluster:PrimarySiloEndpoint: memory mode is one silo", error.Message);
    }

    [Fact]
    public async Task Embedded_AResumedAttempt_StartsATraceOfItsOwn_LinkedToTheJobsFirst()
    {
        var started = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is JobTracing.SourceName or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = started.Add,
        };
        ActivitySource.AddActivityListener(listener);
        await using var app = BuildEmbedded(out var url, $"--{TelemetryHosting.OtlpEndpointVariable}=http://127.0.0.1:{FreePorts.Take(1)[0]}");
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        var jobId = await http.SubmitJobAsync(new { prompt = "", recipe_name = "wait", recipe_config = new { seconds = 3, steps = 3 } });
        await http.UntilStatusAsync(jobId, "running");
        Activity? Run(int attempt) =>
            started.FirstOrDefault(a => a.OperationName == "job.run" && (string?)a.GetTagItem("job.id") == jobId && (int?)a.GetTagItem("job.attempt") == attempt);
        var first = await Eventually.Until(() => Task.FromResult(Run(1)), a => a is not null, "the first attempt's span");

        // The activation goes away mid-run (as when its silo leaves): the next one resumes the job.
        var job = app.Services.GetRequiredService<IGrainFactory>().Job(JobKeys.DefaultTenant, jobId);
        await job.AsReference<global::Orleans.Core.Internal.IGrainManagementExtension>().DeactivateOnIdle();
        var resumed = await Eventually.Until(
            async () => { await http.GetAsync($"/api/v1/runs/{jobId}"); return Run(2); }, // a request wakes it
            a => a is not null, "the resumed attempt's span");

        Assert.NotEqual(first!.TraceId, resumed!.TraceId);
        Assert.Contains(resumed.Links, link => link.Context.TraceId == first.TraceId);
        await http.UntilStatusAsync(jobId, "succeeded");
        await app.StopAsync();
    }

    [Fact]
    public async Task Embedded_SweepPeriodBelowTheReminderMinimum_FailsAtStartNamingIt()
    {
        // Orleans would refuse the sweep's reminder, leaving no recovery, retention or webhook retries.
        await using var app = BuildEmbedded(out _, "--Jobs:SweepPeriod=00:00:10");

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Jobs:SweepPeriod (00:00:10) must be at least Orleans' minimum reminder period (00:01:00)", error.Message);
    }

    [Fact]
    public async Task Embedded_EveryLogLineAboutAJob_CarriesItsIdAndTenant()
    {
        var logs = new ScopeCapturingLoggerProvider();
        await using var app = BuildEmbedded(
            out var url, services => services.AddSingleton<ILoggerProvider>(logs),
            "--Logging:LogLevel:Praison.Orleans.Grains.Jobs.JobGrain=Information");
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(url) };

        var jobId = await http.SubmitJobAsync(new { prompt = "logged", recipe_name = "echo" });
        await http.UntilStatusAsync(jobId, "succeeded");

        var lines = await Eventually.Until(
            () => Task.FromResult(logs.Lines.Where(l => l.Message.Contains(jobId, StringComparison.Ordinal)).ToList()),
            found => found.Any(l => l.Message.Contains("ended", StringComparison.Ordinal)),
            "the job's end to be logged");
        Assert.True(lines.Count >= 2, "submitted and ended, at least");
        Assert.All(lines, line =>
        {
            Assert.Equal(jobId, line.Scope.GetValueOrDefault("JobId"));
            Assert.Equal(JobKeys.DefaultTenant, line.Scope.GetValueOrDefault("Tenant"));
        });
        await app.StopAsync();
    }

    /// <summary>Records each log line with the key-value scopes around it.</summary>
    private sealed class ScopeCapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public ConcurrentQueue<(string Message, Dictionary<string, object?> Scope)> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Logger(ScopeCapturingLoggerProvider provider) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var scope = new Dictionary<string, object?>();
                provider._scopes.ForEachScope(
                    (value, into) =>
                    {
                        if (value is IEnumerable<KeyValuePair<string, object>> pairs)
                        {
                            foreach (var pair in pairs)
                            {
                                into[pair.Key] = pair.Value;
                            }
                        }
                    },
                    scope);
                provider.Lines.Enqueue((formatter(state, exception), scope));
            }
        }
    }

    private static WebApplication BuildEmbedded(out string url, params string[] settings) => BuildEmbedded(out url, null, settings);

    private static WebApplication BuildEmbedded(out string url, Action<IServiceCollection>? overrides, params string[] settings) =>
        EmbeddedGateways.Build(out url, overrides, settings);

    [Fact]
    [Trait("Category", "Process")]
    public async Task GatewayProcess_StartsOnGivenUrl_AndRunsAJob()
    {
        var ports = FreePorts.Take(3);
        await using var gateway = ServerProcess.Start("gateway", "gateway", "Praison.Orleans.Gateway",
            ["--urls", $"http://127.0.0.1:{ports[0]}", $"--Cluster:SiloPort={ports[1]}", $"--Cluster:GatewayPort={ports[2]}"]);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[0]}") };
        await Eventually.Until(
            async () =>
            {
                try
                {
                    return (await http.GetAsync("/health")).StatusCode;
                }
                catch (HttpRequestException)
                {
                    return HttpStatusCode.ServiceUnavailable;
                }
            },
            code => code == HttpStatusCode.OK || gateway.HasExited,
            "the gateway process to answer /health",
            TimeSpan.FromSeconds(60));
        Assert.False(gateway.HasExited, gateway.Output);

        var jobId = await http.SubmitJobAsync(new { prompt = "from a process", recipe_name = "echo" });
        await http.UntilStatusAsync(jobId, "succeeded");

        Assert.Contains($"Now listening on: http://127.0.0.1:{ports[0]}", gateway.Output);
    }
}
