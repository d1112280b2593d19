using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Praison.Orleans.Grains.Llm;
using Praison.Orleans.Grains.Recipes;

namespace Praison.Orleans.Grains.Agents;

/// <summary>
/// Runs an agents file task by task through the LLM: each task is one completion whose system message
/// is its role (role, goal, backstory) and whose user message is the task, its expected output and the
/// outputs of the tasks before it. <c>{topic}</c> is the job's prompt (or the file's topic when the
/// prompt is empty); a job with <c>depends_on</c> gives every task its parents' results as the topic's
/// context. Progress goes 10, then evenly to 90 after each task, then 100; the current step names the
/// task. The result is the last task's output.
/// </summary>
public sealed class AgentsRunner(LlmClient llm)
{
    public async Task<RecipeOutput> RunAsync(
        AgentsDefinition file, string prompt, string? topicContext, IProgress<JobProgress> progress, CancellationToken cancellationToken)
    {
        var topic = string.IsNullOrEmpty(prompt) ? file.Topic ?? "" : prompt;
        var tasks = file.Tasks.ToList();
        var outputs = new List<(string Task, string Output)>();
        var usages = new List<UsageDetails?>();
        progress.Report(new JobProgress(10, tasks[0].Task.Name, 0, tasks.Count));
        for (var i = 0; i < tasks.Count; i++)
        {
            var (role, task) = tasks[i];
            var (text, usage) = await llm.ChatAsync(System(role, topic), User(task, topic, topicContext, outputs), _ => { }, cancellationToken);
            outputs.Add((task.Name, text));
            usages.Add(usage);
            var next = i + 1 < tasks.Count ? tasks[i + 1].Task.Name : "done";
            progress.Report(new JobProgress(10 + 80.0 * (i + 1) / tasks.Count, next, i + 1, tasks.Count));
        }

        progress.Report(new JobProgress(100, "done", tasks.Count, tasks.Count));
        var metrics = llm.Metrics([.. usages]);
        metrics["tasks"] = tasks.Count;
        return new RecipeOutput(JsonValue.Create(outputs[^1].Output), metrics);
    }

    private static string System(AgentRole role, string topic) =>
        $"You are {Fill(role.Role, topic)}.\nYour goal: {Fill(role.Goal, topic)}\n{Fill(role.Backstory, topic)}".TrimEnd();

    private static string User(AgentTask task, string topic, string? topicContext, List<(string Task, string Output)> before)
    {
        var text = new StringBuilder()
            .Append("Task: ").AppendLine(Fill(task.Description, topic))
            .Append("Expected output: ").AppendLine(Fill(task.ExpectedOutput, topic));
        if (topicContext is not null)
        {
            text.AppendLine().AppendLine(topicContext);
        }

        if (before.Count > 0)
        {
            text.AppendLine().AppendLine("Context from the previous tasks:");
            foreach (var (name, output) in before)
            {
                text.Append('[').Append(name).AppendLine("]").AppendLine(output);
            }
        }

        return text.ToString().TrimEnd();
    }

    private static string Fill(string text, string topic) => text.Replace("{topic}", topic, StringComparison.Ordinal);
}
