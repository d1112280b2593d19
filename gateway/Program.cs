using Praison.Orleans.Gateway.Errors;
using Praison.Orleans.Gateway.Health;
using Praison.Orleans.Gateway.Hosting;
using Praison.Orleans.Gateway.Runs;

var builder = WebApplication.CreateBuilder(args);
builder.AddJobsCluster();             // embedded silo (default) or client of an external cluster
builder.AddRunsApi();                 // JSON in snake_case, request body limit, API options
builder.Services.AddProblemDetails(); // every error is RFC 9457 problem JSON
builder.Services.AddExceptionHandler<ClusterUnavailableHandler>(); // cluster down → 503, bad body → 4xx
builder.ListenOnDefaultAddress();     // http://127.0.0.1:8005 unless --urls or ASPNETCORE_URLS says otherwise

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapHealthApi();
app.MapRunsApi();
app.Run();

/// <summary>The gateway's entry point, visible to tests that host it.</summary>
public partial class Program;
