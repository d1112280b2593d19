using System.Net;
using System.Text;
using System.Text.Json;
using CsCheck;
using Xunit.Abstractions;

namespace Praison.Orleans.Tests.Http;

/// <summary>A cluster of its own for the fuzz test: the jobs its generated submits create never take the shared cluster's slots.</summary>
public sealed class FuzzClusterFixture : JobsClusterFixture
{
    protected override int SiloCount => 1;
}

/// <summary>
/// Property-based: thousands of generated requests — bodies, fields, nesting, invalid text, ids,
/// queries and headers (Idempotency-Key, Last-Event-ID) — and the only answers are 2xx or 4xx, every
/// error body is problem JSON, and the service is healthy afterwards.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class FuzzTests(FuzzClusterFixture fixture, ITestOutputHelper output) : IClassFixture<FuzzClusterFixture>
{
    private static readonly string[] Fields =
    [
        "prompt", "recipe_name", "recipe_config", "agent_file", "agent_yaml", "framework", "config", "webhook_url",
        "timeout", "session_id", "idempotency_key", "max_attempts", "priority", "concurrency_key", "concurrency_limit", "singleton_key", "singleton_seconds", "unknown",
        "schedule_id", "cron", "timezone", "job", "overlap", "catch_up", "paused", "run_at", "delay_seconds",
    ];

    /// <summary>JSON text of one hostile value: strings (escaped surrogates, controls, long), numbers, nesting.</summary>
    private static readonly Gen<string> Value = Gen.Frequency(
        (4, Gen.String.Select(s => JsonSerializer.Serialize(s))),
        (2, Gen.OneOf(Gen.Const("\"\\ud800\""), Gen.Const("\"a\\udc00b\""), Gen.Const("\"\\u0000\""), Gen.Const("\"echo\""),
            Gen.Const("\"wait\""), Gen.Const("\"http://169.254.169.254/\""), Gen.Const("\"../../etc/passwd\""),
            Gen.Const("\"roles: [[[[[[\""), Gen.Const("\"x:\\n  - [a, {b: c}]\""))),
        (1, Gen.Int[1, 300_000].Select(n => JsonSerializer.Serialize(new string('z', n)))),
        (2, Gen.OneOf(Gen.Const("1e400"), Gen.Const("-1"), Gen.Const("0"), Gen.Const("1.5"), Gen.Const("99999999999999999999"),
            Gen.Const("true"), Gen.Const("null"), Gen.Const("[]"), Gen.Const("{}"))),
        (1, Gen.Int[-5, 5].Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        (1, Gen.Int[1, 200].Select(depth => new string('[', depth) + "1" + new string(']', depth))),
        (1, Gen.Int[1, 200].Select(depth => string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth))),
        (1, Gen.Const("{\"steps\": 1, \"seconds\": 0}")),
        (2, Gen.OneOf(Gen.Const("\"* * * * *\""), Gen.Const("\"*/2 * * * * *\""), Gen.Const("\"0 0 30 2 *\""), Gen.Const("\"@daily\""),
            Gen.Const("\"L W # ? * *\""), Gen.Const("\"0 0 29 2 1\""), Gen.Const("\"Europe/Berlin\""), Gen.Const("\"skip\""), Gen.Const("\"none\""),
            Gen.Const("{\"prompt\":\"x\",\"recipe_name\":\"echo\"}"), Gen.Const("{\"prompt\":\"x\",\"run_at\":\"2020-01-01T00:00:00Z\"}"))));

    private static readonly Gen<byte[]> Body = Gen.Frequency(
        (2, Gen.String.Select(prompt => JsonSerializer.SerializeToUtf8Bytes(new { prompt, recipe_name = "echo" }))),
        (2, Gen.Select(Gen.OneOf(Gen.Const("0 3 * * *"), Gen.Const("*/2 * * * * *"), Gen.Const("0 0 29 2 1"), Gen.Const("0 0 30 2 *"), Gen.String),
            Gen.OneOf(Gen.Const("UTC"), Gen.Const("Europe/Berlin"), Gen.Const("America/New_York"), Gen.String), Gen.String)
            .Select((cron, timezone, prompt) => JsonSerializer.SerializeToUtf8Bytes(new { cron, timezone, job = new { prompt, recipe_name = "echo" } }))),
        (6, Gen.Select(Gen.OneOf(Fields), Value).Array[0, 6].Select(fields =>
            Encoding.UTF8.GetBytes("{" + string.Join(",", fields.Select(f => $"\"{f.Item1}\":{f.Item2}")) + "}"))),
        (1, Gen.Byte.Array[0, 200]),
        (1, Gen.Select(Value, Gen.Int[0, 40]).Select((value, cut) => Encoding.UTF8.GetBytes(("{\"prompt\":" + value)[..Math.Min(cut, value.Length + 10)]))),
        (1, Gen.Const(new byte[] { (byte)'{', (byte)'"', (byte)'p', (byte)'r', (byte)'o', (byte)'m', (byte)'p', (byte)'t', (byte)'"', (byte)':', (byte)'"', 0xff, 0xfe, (byte)'"', (byte)'}' })));

    private static readonly Gen<string> Id = Gen.Frequency(
        (3, Gen.Const("run_0123456789ab")),
        (2, Gen.String.Select(Uri.EscapeDataString)),
        (1, Gen.Int[1, 3000].Select(n => "run_" + new string('f', n))),
        (1, Gen.OneOf(Gen.Const("..%2F..%2Fhealth"), Gen.Const("%2e%2e"), Gen.Const("run_%FF"), Gen.Const("%C0%AF"))));

    private static readonly Gen<(HttpMethod Method, string Target)> Target = Gen.Frequency(
        (5, Gen.Const((HttpMethod.Post, "/api/v1/runs"))),
        (2, Gen.Select(Id, Gen.OneOf(Gen.Const(""), Gen.Const("/result"), Gen.Const("/cancel"))).Select((id, tail) =>
            (tail == "/cancel" ? HttpMethod.Post : HttpMethod.Get, $"/api/v1/runs/{id}{tail}"))),
        (1, Id.Select(id => (HttpMethod.Delete, $"/api/v1/runs/{id}"))),
        (1, Id.Select(id => (HttpMethod.Get, $"/api/v1/runs/{id}/stream"))),
        (2, Gen.Select(Gen.String, Gen.String, Gen.String).Select((status, page, session) =>
            (HttpMethod.Get, $"/api/v1/runs?status={Uri.EscapeDataString(status)}&page={Uri.EscapeDataString(page)}&page_size={Uri.EscapeDataString(page)}&session_id={Uri.EscapeDataString(session)}"))),
        (3, Gen.Const((HttpMethod.Post, "/api/v1/schedules"))),
        (1, Gen.Select(Id, Gen.OneOf(Gen.Const(""), Gen.Const("/pause"), Gen.Const("/resume"), Gen.Const("/trigger"))).Select((id, tail) =>
            (tail == "" ? HttpMethod.Patch : HttpMethod.Post, $"/api/v1/schedules/{id}{tail}"))),
        (1, Gen.Select(Id, Gen.Bool).Select((id, delete) => (delete ? HttpMethod.Delete : HttpMethod.Get, $"/api/v1/schedules/{id}"))),
        (1, Gen.Select(Gen.String, Gen.String).Select((page, size) =>
            (HttpMethod.Get, $"/api/v1/schedules?page={Uri.EscapeDataString(page)}&page_size={Uri.EscapeDataString(size)}"))),
        (1, Gen.OneOf(Gen.Const((HttpMethod.Get, "/stats")), Gen.Const((HttpMethod.Head, "/health")), Gen.Const((HttpMethod.Put, "/api/v1/runs")),
            Gen.Const((HttpMethod.Patch, "/api/v1/runs/run_0123456789ab")))));

    private static readonly Gen<string?> HeaderValue = Gen.Frequency(
        (3, Gen.Const((string?)null)),
        (2, Gen.String.Select(s => (string?)new string(s.Where(c => c is >= ' ' and < (char)127).ToArray()))),
        (1, Gen.Int[1, 2000].Select(n => (string?)new string('k', n))),
        (1, Gen.OneOf(Gen.Const<string?>("-1"), Gen.Const<string?>("99999999999999999999999"), Gen.Const<string?>("abc"))));

    [Fact]
    public async Task GeneratedRequests_AreAnswered2xxOr4xxProblem_AndTheServiceStaysHealthy()
    {
        using var http = await fixture.StartGatewayAsync("--Api:SubmitsPerSecondPerTenant=0", "--Api:MaxLiveJobsPerTenant=0");
        var answered = new Dictionary<int, int>();
        var requests = Gen.Select(Target, Body, HeaderValue, HeaderValue);

        await requests.SampleAsync(
            async (target, body, idempotencyKey, lastEventId) =>
            {
                using var request = new HttpRequestMessage(target.Method, target.Target);
                if (target.Method == HttpMethod.Post || target.Method == HttpMethod.Put || target.Method == HttpMethod.Patch)
                {
                    request.Content = new ByteArrayContent(body);
                    request.Content.Headers.ContentType = new("application/json");
                }

                request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
                request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                lock (answered)
                {
                    answered[(int)response.StatusCode] = answered.GetValueOrDefault((int)response.StatusCode) + 1;
                }

                var status = (int)response.StatusCode;
                Assert.True(status is >= 200 and < 500, $"{target.Method} {target.Target} answered {status}: {await response.Content.ReadAsStringAsync()}");
                var hasBody = response.Content.Headers.ContentLength is not 0 && target.Method != HttpMethod.Head;
                if (status >= 400 && hasBody && !IsKestrelRejection(response))
                {
                    Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                }
            },
            iter: 3000,
            threads: 4,
            print: sample => $"{sample.Item1.Method} {sample.Item1.Target} body={Encoding.UTF8.GetString(sample.Item2)[..Math.Min(sample.Item2.Length, 300)]}");

        output.WriteLine("answers: " + string.Join(", ", answered.OrderBy(a => a.Key).Select(a => $"{a.Key}×{a.Value}")));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);
        Assert.Contains(202, answered.Keys); // the generator reaches real submits, not only refusals
        Assert.Contains(201, answered.Keys); // and real schedules
    }

    /// <summary>
    /// Kestrel answers a request line it cannot read (an over-long or malformed target) itself, with an
    /// empty 400/414 and a closed connection, before the application runs.
    /// </summary>
    private static bool IsKestrelRejection(HttpResponseMessage response) =>
        response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.RequestUriTooLong && response.Headers.ConnectionClose == true;
}
