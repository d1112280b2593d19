using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Praison.Orleans.Tests.Http;

/// <summary>
/// What a hostile or careless client sends: every answer is a 4xx problem, nothing changes, and the
/// service (here the test process itself, which hosts the gateway and the silos) lives on.
/// </summary>
[Collection(JobsClusterCollection.Name)]
public sealed class HostileInputTests(JobsClusterFixture fixture)
{
    private HttpClient Http => fixture.Http;

    [Theory]
    [InlineData('[', ']')]
    [InlineData('{', '}')]
    public async Task Submit_AgentYamlNested50000Deep_Is422AndTheServiceLives(char open, char close)
    {
        // ~100 KB that once recursed the YAML parser into a stack overflow, which kills the process.
        var yaml = "roles: " + new string(open, 50_000) + new string(close, 50_000);

        var response = await Http.PostAsJsonAsync("/api/v1/runs", new { prompt = "x", agent_yaml = yaml });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await ProblemOf(response);
        Assert.Contains("nested deeper than 32 levels", (string)problem["errors"]!["agent_yaml"]![0]!);
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task Submit_AnAliasBomb_Is422NamingTheAlias_AndNothingIsMade()
    {
        // One anchored role of 3,000 tasks and 2,999 aliases of it: 124 KB that read as 9 million tasks.
        var yaml = new System.Text.StringBuilder("roles:\n  r0: &r\n    role: R\n    tasks:\n");
        for (var t = 0; t < 3000; t++)
        {
            yaml.Append("      t").Append(t).AppendLine(": {description: d}");
        }

        for (var r = 1; r < 3000; r++)
        {
            yaml.Append("  r").Append(r).AppendLine(": *r");
        }

        var session = "alias-bomb-" + Guid.NewGuid().ToString("N");
        var response = await Http.PostAsJsonAsync("/api/v1/runs", new { prompt = "x", agent_yaml = yaml.ToString(), session_id = session });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("Invalid YAML: aliases (*r) are not allowed in an agents file; write each role and task out.",
            (string)(await ProblemOf(response))["errors"]!["agent_yaml"]![0]!);
        Assert.Equal(0, (int)(await Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs?session_id={session}"))!["total"]!);
    }

    [Fact]
    public async Task Submit_AMergeKeyAlias_Is422()
    {
        const string Yaml = """
            roles:
              base: &defaults { role: R, goal: G }
              writer:
                <<: *defaults
                tasks: { write: { description: d } }
            """;

        var response = await Http.PostAsJsonAsync("/api/v1/runs", new { prompt = "x", agent_yaml = Yaml });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("aliases (*defaults) are not allowed", (string)(await ProblemOf(response))["errors"]!["agent_yaml"]![0]!);
    }

    [Fact]
    public async Task Submit_AnAgentsFileOverTheTaskLimit_Is422NamingIt()
    {
        var yaml = new System.Text.StringBuilder("roles:\n  a:\n    role: A\n    tasks:\n");
        for (var t = 0; t < 60; t++)
        {
            yaml.Append("      t").Append(t).AppendLine(": {description: d}");
        }

        yaml.Append("  b:\n    role: B\n    tasks:\n");
        for (var t = 0; t < 41; t++)
        {
            yaml.Append("      t").Append(t).AppendLine(": {description: d}");
        }

        var response = await Http.PostAsJsonAsync("/api/v1/runs", new { prompt = "x", agent_yaml = yaml.ToString() });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("An agents file may have at most 100 tasks (Agents:MaxTasks); this one has 101.",
            (string)(await ProblemOf(response))["errors"]!["agent_yaml"]![0]!);
    }

    public static TheoryData<byte[], string> InvalidText => new()
    {
        { Utf8("""{"prompt": "a\ud800b"}"""), "prompt" },
        { Utf8("""{"prompt": "a\udc00"}"""), "prompt" },
        { [.. Utf8("""{"prompt": "a"""), 0xff, .. Utf8("\"}")], "prompt" },
        { Utf8("""{"prompt": "x", "recipe_name": "wait", "recipe_config": {"steps": 1, "note": ["\ud800"]}}"""), "recipe_config" },
        { [.. Utf8("""{"prompt": "x", "session_id": "s"""), 0xc3, 0x28, .. Utf8("\"}")], "session_id" },
        { Utf8("""{"prompt": "x", "\ud800": 1}"""), "body" },
    };

    [Theory]
    [MemberData(nameof(InvalidText))]
    public async Task Submit_InvalidUnicodeInAnyString_Is400NamingTheField(byte[] body, string field)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");

        var response = await Http.PostAsync("/api/v1/runs", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await ProblemOf(response);
        Assert.Equal($"Invalid text in field '{field}': strings must be valid UTF-8 with no lone surrogates.", (string)problem["detail"]!);
    }

    [Fact]
    public async Task Submit_ValidSurrogatePairsAndNonAsciiText_AreAccepted()
    {
        using var content = new ByteArrayContent(Utf8("""{"prompt": "smile \ud83d\ude00 and café", "recipe_name": "echo"}"""));
        content.Headers.ContentType = new("application/json");

        var response = await Http.PostAsync("/api/v1/runs", content);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var jobId = (string)(await response.Content.ReadFromJsonAsync<JsonObject>())!["job_id"]!;
        await Http.UntilStatusAsync(jobId, "succeeded");
        var result = await Http.GetFromJsonAsync<JsonObject>($"/api/v1/runs/{jobId}/result");
        Assert.Equal("smile \U0001F600 and caf\u00e9", (string)result!["result"]!);
    }

    [Fact]
    public async Task HeadHealth_AnswersLikeGet_ForProbes()
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, "/health");

        var response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static byte[] Utf8(string text) => System.Text.Encoding.UTF8.GetBytes(text);

    private static async Task<JsonObject> ProblemOf(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }
}
