using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
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
    public async Task HeadHealth_AnswersLikeGet_ForProbes()
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, "/health");

        var response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task<JsonObject> ProblemOf(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }
}
