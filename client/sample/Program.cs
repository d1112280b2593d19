using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Praison.Orleans.Client;

// Submits a job, draws its progress as a bar while it runs, and prints its result:
//   dotnet run --project client/sample -- [base address] [prompt]
var baseAddress = new Uri(args.Length > 0 ? args[0] : "http://127.0.0.1:8005");
var prompt = args.Length > 1 ? args[1] : "";

var services = new ServiceCollection();
services.AddPraisonJobsClient(o => (o.BaseAddress, o.ApiKey) = (baseAddress, Environment.GetEnvironmentVariable("PRAISON_API_KEY")));
await using var provider = services.BuildServiceProvider();
var jobs = provider.GetRequiredService<PraisonJobsClient>();

var job = await jobs.SubmitAsync(new JobRequest(prompt) { RecipeName = "wait", RecipeConfig = new JsonObject { ["seconds"] = 3, ["steps"] = 10 } });
Console.WriteLine($"submitted {job.JobId}");
await foreach (var e in jobs.StreamAsync(job.JobId))
{
    if (e.Type == "progress")
    {
        var filled = (int)Math.Round((e.Percentage ?? 0) / 5);
        Console.Write($"\r[{new string('#', filled)}{new string('.', 20 - filled)}] {e.Percentage,3:0}% {e.Step}".PadRight(60));
    }
}

Console.WriteLine();
var result = await jobs.GetResultAsync(job.JobId);
Console.WriteLine($"{result.Status}: {result.Result?.ToString() ?? result.Error}");
return result.Status == JobStatuses.Succeeded ? 0 : 1;
