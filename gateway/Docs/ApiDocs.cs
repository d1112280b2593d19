using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Praison.Orleans.Gateway.Docs;

/// <summary>
/// The OpenAPI document of the real endpoints (Microsoft.AspNetCore.OpenApi) at <c>/openapi.json</c>, as
/// PraisonAI's server serves it, and at ASP.NET Core's <c>/openapi/v1.json</c>; interactive docs (Scalar)
/// at <c>/docs</c>. They follow the API's auth rules: open where the API is open, behind a key where it is.
/// </summary>
internal static class ApiDocs
{
    /// <summary>The document served at <c>/openapi.json</c>.</summary>
    public const string DocumentName = "openapi";

    public static WebApplicationBuilder AddApiDocs(this WebApplicationBuilder builder)
    {
        foreach (var name in new[] { DocumentName, "v1" })
        {
            builder.Services.AddOpenApi(name, options =>
            {
                options.AddDocumentTransformer(DescribeAsync);
                options.AddOperationTransformer(DescribeOperationAsync);
            });
        }

        return builder;
    }

    public static IEndpointRouteBuilder MapApiDocs(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi("/{documentName}.json"); // /openapi.json
        app.MapOpenApi();                       // /openapi/v1.json
        app.MapScalarApiReference("/docs", scalar => scalar.WithTitle("Praison.Orleans Jobs API").WithOpenApiRoutePattern("/openapi.json"));
        return app;
    }

    /// <summary>Title, and the two ways to send an API key (docs/api.md: API keys and tenants), either of which is enough.</summary>
    private static Task DescribeAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "Praison.Orleans Jobs API";
        document.Info.Description =
            "PraisonAI's Jobs API (/api/v1/runs) on Microsoft Orleans. Errors are RFC 9457 problem JSON whose `detail` is the message. "
            + "With API keys configured, every path but /health needs `Authorization: Bearer <key>` or `X-API-Key: <key>`.";
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
        {
            ["bearer"] = new OpenApiSecurityScheme { Type = SecuritySchemeType.Http, Scheme = "bearer", Description = "The API key as a bearer token." },
            ["apiKey"] = new OpenApiSecurityScheme { Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = "X-API-Key", Description = "The API key." },
        };
        document.Security =
        [
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] },
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("apiKey", document)] = [] },
        ];
        return Task.CompletedTask;
    }

    /// <summary>
    /// What the handlers read themselves: the submit body (documented, not declared as routing metadata,
    /// which would refuse other content types), <c>Idempotency-Key</c> on submit, <c>Last-Event-ID</c> on a stream.
    /// </summary>
    private static async Task DescribeOperationAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        if (metadata.OfType<RequestBodyDoc>().FirstOrDefault() is { } body)
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = "Read as JSON whatever the content type, so a bare curl -d works.",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = await context.GetOrCreateSchemaAsync(body.Type, null, cancellationToken) },
                },
            };
        }

        var header = metadata.OfType<RequestHeaderDoc>().FirstOrDefault();
        if (header is not null)
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = header.Name,
                In = ParameterLocation.Header,
                Description = header.Description,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = header.MaxLength },
            });
        }
    }
}

/// <summary>Endpoint metadata naming the type that documents a body the handler reads itself.</summary>
internal sealed record RequestBodyDoc(Type Type);

/// <summary>Endpoint metadata naming a request header the handler reads, for the OpenAPI document.</summary>
internal sealed record RequestHeaderDoc(string Name, string Description, int? MaxLength = null);
