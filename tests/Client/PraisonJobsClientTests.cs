using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Praison.Orleans.Client;
using Praison.Orleans.Gateway.Auth;
using JobEvent = Praison.Orleans.Client.JobEvent;
using static Praison.Orleans.Tests.Client.ClientTesting;

namespace Praison.Orleans.Tests.Client;

/// <summary>The typed .NET client (<c>client/</c>) against the real gateway on loopback: every method, its errors, its retries, a dropped stream.</summary>
[Collection(JobsClusterCollection.Name)]
public sealed class PraisonJobsClientTests(JobsClusterFixture fixture)
{
    [Fact]
    public async Task Submit_Wait_AndGetResult_TypedAndAsJson()
    {
        using var provider = Services(fixture.Http.BaseAddress!);
        var jobs = provider.GetRequiredService<PraisonJobsClient>();

        var submitted = await jobs.SubmitAsync(new JobRequest("hello from .NET") { RecipeName = "echo" });
        var ended = await jobs.WaitAsync(submitted.JobId, Timeout());

        Assert.Equal(JobStatuses.Queued, submitted.Status);
        Assert.EndsWith($"/api/v1/runs/{submitted.JobId}", submitted.PollUrl);
        Assert.Equal((JobStatuses.Succeeded, 1), (ended.Status, ended.Attempt));
        Assert.True(ended.IsFinished);
        Assert.Equal("hello from .NET", (await jobs.GetResultAsync(submitted.JobId)).Result!.Value.GetString());
        Assert.Equal("hello from .NET", await jobs.GetResultAsync(submitted.JobId, (JsonTypeInfo<string>)JsonSerializerOptions.Default.GetTypeInfo(typeof(string))));
    }

    [Fact]
    public async Task Stream_GivesEveryEventInOrder_EndingWithTheResult()
    {
        using var provider = Services(fixture.Http.BaseAddress!);
        var jobs = provider.GetRequiredService<PraisonJobsClient>();
        var job = await jobs.SubmitAsync(new JobRequest("") { RecipeName = "wait", RecipeConfig = new JsonObject { ["seconds"] = 0.5, ["steps"] = 5 } });

        var events = await ReadAllAsync(jobs.StreamAsync(job.JobId, cancellationToken: Timeout()));

        AssertInOrder(events);
        Assert.Contains(events, e => e is { Type: "progress", Percentage: 100 });
        Assert.Equal("result", events[^1].Type);
    }

    [Fact]
    public async Task Stream_DroppedMidJob_IsOpenedAgainWithLastEventId_WithoutALostOrRepeatedEvent()
    {
        var drops = new DroppingHandler(dropAfterEvents: 2);
        using var provider = Services(fixture.Http.BaseAddress!, builder => builder.AddHttpMessageHandler(() => drops));
        var jobs = provider.GetRequiredService<PraisonJobsClient>();
        // Long enough that every reconnect meets the job live (a finished job's replay coalesces its progress).
        var job = await jobs.SubmitAsync(new JobRequest("") { RecipeName = "wait", RecipeConfig = new JsonObject { ["seconds"] = 6, ["steps"] = 6 } });
        var undisturbed = ReadAllAsync(fixture.Http.StreamAsync(job.JobId, cancellationToken: Timeout())); // the same stream, never dropped

        var events = await ReadAllAsync(jobs.StreamAsync(job.JobId, cancellationToken: Timeout()));

        Assert.Equal(2, drops.Dropped);
        Assert.Equal(3, drops.LastEventIds.Count);
        Assert.Null(drops.LastEventIds[0]);
        Assert.All(drops.LastEventIds.Skip(1), Assert.NotNull); // each reconnect said where it had got to
        AssertInOrder(events);
        var reference = (await undisturbed).Where(e => e.EventType != "heartbeat").Select(e => (long.Parse(e.EventId!), e.EventType));
        Assert.Equal(reference, events.Where(e => e.Type != "heartbeat").Select(e => (e.Id!.Value, e.Type))); // nothing lost, nothing repeated
        Assert.Equal("result", events[^1].Type);
    }

    [Fact]
    public async Task Stream_TheGatewayClosingTheConnectionMidJob_IsOpenedAgain_WithoutALostOrRepeatedEvent()
    {
        var closer = new ClosingStreams(closeAfterEvents: 2, connections: 2);
        using var gateway = await fixture.StartGatewayAsync(services => services.AddSingleton<IStartupFilter>(closer));
        using var provider = Services(gateway.BaseAddress!);
        var jobs = provider.GetRequiredService<PraisonJobsClient>();
        // Long enough that every reconnect meets the job live (a finished job's replay coalesces its progress).
        var job = await jobs.SubmitAsync(new JobRequest("") { RecipeName = "wait", RecipeConfig = new JsonObject { ["seconds"] = 6, ["steps"] = 6 } });
        var undisturbed = ReadAllAsync(fixture.Http.StreamAsync(job.JobId, cancellationToken: Timeout())); // the same stream, on another gateway

        var events = await ReadAllAsync(jobs.StreamAsync(job.JobId, cancellationToken: Timeout()));

        Assert.Equal(2, closer.Closed);
        Assert.Equal(3, closer.LastEventIds.Count);
        Assert.Null(closer.LastEventIds[0]);
        // Each reconnect says where the client had got to: how far that is depends on what reached it before the reset.
        var resumedAfter = closer.LastEventIds.Skip(1).Select(id => id is null ? 0 : long.Parse(id)).ToList();
        Assert.Equal(resumedAfter.Order(), resumedAfter);
        var reference = (await undisturbed).Where(e => e.EventType != "heartbeat").Select(e => (long.Parse(e.EventId!), e.EventType));
        Assert.Equal(reference, events.Where(e => e.Type != "heartbeat").Select(e => (e.Id!.Value, e.Type))); // nothing lost, nothing repeated
        Assert.Equal("result", events[^1].Type);
    }

    [Fact]
    public async Task CancelDeleteAndTheirRefusals_AreProblemsWithTheirStatus()
    {
        using var provider = Services(fixture.Http.BaseAddress!);
        var jobs = provider.GetRequiredService<PraisonJobsClient>();
        var job = await jobs.SubmitAsync(new JobRequest("") { RecipeName = "wait", RecipeConfig = new JsonObject { ["seconds"] = 600 } });

        var running = await Assert.ThrowsAsync<PraisonJobsException>(() => jobs.DeleteAsync(job.JobId));
        var cancelled = await jobs.CancelAsync(job.JobId);
        var again = await Assert.ThrowsAsync<PraisonJobsException>(() => jobs.CancelAsync(job.JobId));
        await jobs.DeleteAsync(job.JobId);
        var gone = await Assert.ThrowsAsync<PraisonJobsException>(() => jobs.GetAsync(job.JobId));

        Assert.Equal(HttpStatusCode.Conflict, running.Status);
        Assert.Equal(JobStatuses.Cancelled, cancelled.Status);
        Assert.NotNull(cancelled.CancelledAt);
        Assert.Equal(HttpStatusCode.BadRequest, again.Status);
        Assert.StartsWith("Job already completed", again.Message);
        Assert.Equal(HttpStatusCode.NotFound, gone.Status);
        Assert.Equal($"Job not found: {job.JobId}", gone.Problem!.Detail);
    }

    [Fact]
    public async Task ARefusedSubmit_CarriesTheFieldsThe422Names()
    {
        using var provider = Services(fixture.Http.BaseAddress!);
        var jobs = provider.GetRequiredService<PraisonJobsClient>();

        var refused = await Assert.ThrowsAsync<PraisonJobsException>(() => jobs.SubmitAsync(new JobRequest("x") { RecipeName = "no-such-recipe", Priority = 500 }));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.Status);
        Assert.Contains("priority", refused.Errors.Keys);
        Assert.Null(refused.RetryAfter);
    }

    [Fact]
    public async Task ASubmitWithAnIdempotencyKey_RepeatedAnswersTheSameJob()
    {
        using var provider = Services(fixture.Http.BaseAddress!);
        var jobs = provider.GetRequiredService<PraisonJobsClient>();
        var key = "client-" + Guid.NewGuid().ToString("N");

        var first = await jobs.SubmitAsync(new JobRequest("once") { RecipeName = "echo" }, key);
        var repeat = await jobs.SubmitAsync(new JobRequest("once") { RecipeName = "echo" }, key);

        Assert.Equal(first.JobId, repeat.JobId);
    }

    [Fact]
    public async Task List_PagesThroughEveryMatchingJob()
    {
        using var provider = Services(fixture.Http.BaseAddress!);
        var jobs = provider.GetRequiredService<PraisonJobsClient>();
        var session = "client-list-" + Guid.NewGuid().ToString("N");
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await jobs.SubmitAsync(new JobRequest($"job {i}") { RecipeName = "echo", SessionId = session })).JobId);
        }

        var listed = await Eventually.Until(
            async () => await ReadAllAsync(jobs.ListAsync(new JobListFilter { SessionId = session, PageSize = 2 })),
            found => found.Count == 5,
            "the five jobs listed");

        Assert.Equal(ids.Order(), listed.Select(job => job.JobId).Order());
        Assert.All(listed, job => Assert.Equal(session, job.SessionId));
    }

    [Fact]
    public async Task A429_IsSentAgainAfterItsRetryAfter_UntilTheServerTakesIt()
    {
        var tenant = "client-" + Guid.NewGuid().ToString("N")[..8];
        using var http = await fixture.StartGatewayAsync(
            "--Api:MaxLiveJobsPerTenant=1", $"--Auth:Tenants:{tenant}:KeySha256:0={Convert.ToHexString(ApiKeyRing.Digest("client-quota-key"))}");
        var answers = new AnswerCounter(); // inside the retry: it sees every attempt
        using var provider = Services(http.BaseAddress!, builder => builder.AddHttpMessageHandler(() => answers), apiKey: "client-quota-key");
        var jobs = provider.GetRequiredService<PraisonJobsClient>();
        var first = await jobs.SubmitAsync(new JobRequest("") { RecipeName = "wait", RecipeConfig = new JsonObject { ["seconds"] = 600 } });

        var second = jobs.SubmitAsync(new JobRequest("after it") { RecipeName = "echo" }); // 429 while the first is live
        await Eventually.Until(() => Task.FromResult(answers.TooManyRequests), refused => refused >= 1, "the second submit refused once");
        await jobs.CancelAsync(first.JobId);

        var made = await second.WaitAsync(Bound); // sent again after its Retry-After, and taken
        Assert.Equal(JobStatuses.Succeeded, (await jobs.WaitAsync(made.JobId, Timeout())).Status);
        Assert.True(answers.TooManyRequests >= 1);
    }

    [Fact]
    public async Task ATransportFailure_IsSentAgainForAReadAndAKeyedSubmit_NeverForASubmitWithoutAKey()
    {
        var failing = new FirstAttemptFails();
        using var provider = Services(fixture.Http.BaseAddress!, builder => builder.AddHttpMessageHandler(() => failing));
        var jobs = provider.GetRequiredService<PraisonJobsClient>();

        var keyed = await jobs.SubmitAsync(new JobRequest("keyed") { RecipeName = "echo" }, "client-" + Guid.NewGuid().ToString("N"));
        var read = await jobs.GetAsync(keyed.JobId);
        var unkeyed = await Assert.ThrowsAsync<HttpRequestException>(() => jobs.SubmitAsync(new JobRequest("unkeyed") { RecipeName = "echo" }));

        Assert.Equal(keyed.JobId, read.JobId);
        Assert.Equal(5, failing.Attempts); // keyed: 2, read: 2, unkeyed: 1 (it might have made its job)
        Assert.Contains("injected", unkeyed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_WithoutABaseAddress_AreRefusedAtFirstUse()
    {
        var services = new ServiceCollection();
        services.AddPraisonJobsClient(o => o.ApiKey = "k");
        using var provider = services.BuildServiceProvider();

        Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => provider.GetRequiredService<PraisonJobsClient>());
    }

    /// <summary>The events with ids came each once, in their order, starting with the job's status.</summary>
    private static void AssertInOrder(List<JobEvent> events)
    {
        var ids = events.Where(e => e.Id is not null).Select(e => e.Id!.Value).ToList();
        Assert.NotEmpty(ids);
        Assert.Equal(ids.Order().Distinct(), ids);
        Assert.Equal("status", events[0].Type);
    }

    /// <summary>Counts the 429s the server answered, attempt by attempt.</summary>
    private sealed class AnswerCounter : DelegatingHandler
    {
        private int _tooManyRequests;

        public int TooManyRequests => Volatile.Read(ref _tooManyRequests);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Interlocked.Increment(ref _tooManyRequests);
            }

            return response;
        }
    }

    /// <summary>Fails each request's first attempt as a dropped connection would, before it reaches the server.</summary>
    private sealed class FirstAttemptFails : DelegatingHandler
    {
        private readonly HashSet<HttpRequestMessage> _failed = new(ReferenceEqualityComparer.Instance);
        private int _attempts;

        public int Attempts => Volatile.Read(ref _attempts);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _attempts);
            lock (_failed)
            {
                if (_failed.Add(request))
                {
                    throw new HttpRequestException("The connection was reset (injected).");
                }
            }

            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>
    /// The gateway's side of a dropped stream: it aborts the connection of each of its first
    /// <paramref name="connections"/> stream requests when it is about to write the event after
    /// <paramref name="closeAfterEvents"/> (those went out earlier, so they have usually reached the client;
    /// a reset may still discard some), and records each stream request's <c>Last-Event-ID</c>.
    /// </summary>
    private sealed class ClosingStreams(int closeAfterEvents, int connections) : IStartupFilter
    {
        private int _streams;
        private int _closed;

        public int Closed => Volatile.Read(ref _closed);

        public List<string?> LastEventIds { get; } = [];

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                if (context.Request.Path.Value?.EndsWith("/stream", StringComparison.Ordinal) == true)
                {
                    lock (LastEventIds)
                    {
                        LastEventIds.Add(context.Request.Headers["Last-Event-ID"].FirstOrDefault());
                    }

                    if (Interlocked.Increment(ref _streams) <= connections)
                    {
                        context.Response.Body = new AbortingStream(context.Response.Body, closeAfterEvents, () =>
                        {
                            Interlocked.Increment(ref _closed);
                            context.Abort();
                        });
                    }
                }

                await nextMiddleware(context);
            });
            next(app);
        };
    }

    /// <summary>Passes writes on until <c>events</c> SSE events (blank-line ends) have gone out; the next write calls <c>abort</c> instead.</summary>
    private sealed class AbortingStream(Stream inner, int events, Action abort) : Stream
    {
        private int _ends;
        private byte _previous;
        private bool _aborted;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_aborted)
            {
                return;
            }

            if (_ends >= events && !buffer.IsEmpty)
            {
                _aborted = true;
                abort();
                return;
            }

            foreach (var b in buffer.Span)
            {
                _ends += b == (byte)'\n' && _previous == (byte)'\n' ? 1 : 0;
                _previous = b;
            }

            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override Task FlushAsync(CancellationToken cancellationToken) => _aborted ? Task.CompletedTask : inner.FlushAsync(cancellationToken);

        public override void Flush() => FlushAsync().GetAwaiter().GetResult();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
