using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Praison.Orleans.Grains.Agents;

/// <summary>One task of a role: what to do and what should come out.</summary>
public sealed record AgentTask(string Name, string Description, string ExpectedOutput);

/// <summary>One role of an agents file, with its tasks in file order.</summary>
public sealed record AgentRole(string Name, string Role, string Goal, string Backstory, IReadOnlyList<AgentTask> Tasks);

/// <summary>
/// A PraisonAI agents file (<c>agents.yaml</c>): <c>framework</c>, <c>topic</c>, and <c>roles</c> — a
/// mapping of roles, each with <c>role</c>, <c>goal</c>, <c>backstory</c> and a mapping of
/// <c>tasks</c> with <c>description</c> and <c>expected_output</c>. Order is the file's order.
/// </summary>
public sealed record AgentsDefinition(string? Framework, string? Topic, IReadOnlyList<AgentRole> Roles)
{
    public IEnumerable<(AgentRole Role, AgentTask Task)> Tasks =>
        Roles.SelectMany(role => role.Tasks.Select(task => (role, task)));

    /// <summary>
    /// The deepest nesting of mappings and sequences an agents file may have. A real one nests four
    /// levels (roles, role, tasks, task); the bound is what keeps a hostile file from recursing the
    /// node builder until the process dies of a stack overflow, which nothing can catch.
    /// </summary>
    public const int MaxDepth = 32;

    /// <summary>
    /// Parses <paramref name="yaml"/>, which may have at most <paramref name="maxTasks"/> tasks (every one
    /// is an LLM call); throws <see cref="AgentsFileException"/> with the parser's or the shape's problem.
    /// </summary>
    public static AgentsDefinition Parse(string yaml, int maxTasks)
    {
        var stream = new YamlStream();
        try
        {
            CheckEvents(yaml);
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException invalid)
        {
            throw new AgentsFileException($"Invalid YAML: {invalid.Message}");
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new AgentsFileException("An agents file must be a YAML mapping with 'roles'.");
        }

        if (Child(root, "roles") is not YamlMappingNode roles || roles.Children.Count == 0)
        {
            throw new AgentsFileException("An agents file needs a 'roles' mapping with at least one role.");
        }

        var tasks = roles.Children.Sum(role => role.Value is YamlMappingNode mapping && Child(mapping, "tasks") is YamlMappingNode listed ? listed.Children.Count : 0);
        if (tasks > maxTasks)
        {
            throw new AgentsFileException($"An agents file may have at most {maxTasks} tasks (Agents:MaxTasks); this one has {tasks}.");
        }

        var parsed = roles.Children.Select(r => ParseRole(Scalar(r.Key), r.Value)).ToList();
        if (!parsed.Any(role => role.Tasks.Count > 0))
        {
            throw new AgentsFileException("An agents file needs at least one task under a role's 'tasks'.");
        }

        return new AgentsDefinition(Text(root, "framework"), Text(root, "topic"), parsed);
    }

    /// <summary>
    /// Walks the parser's events (which it produces without recursion, in time linear in the text) and
    /// refuses, before anything builds a tree of it: a document nested deeper than <see cref="MaxDepth"/>
    /// (recursion), and any alias (<c>*name</c>, also in a <c>&lt;&lt;</c> merge): an alias repeats a whole
    /// subtree, so a few of them multiply a small file into millions of roles and tasks — a 124 KB file of
    /// 2,999 aliases of one 3,000-task role took 2.9 s and 537 MiB to read. No agents file needs one.
    /// </summary>
    private static void CheckEvents(string yaml)
    {
        var parser = new Parser(new StringReader(yaml));
        var depth = 0;
        while (parser.MoveNext())
        {
            switch (parser.Current)
            {
                case AnchorAlias alias:
                    throw new AgentsFileException($"Invalid YAML: aliases (*{alias.Value}) are not allowed in an agents file; write each role and task out.");
                case MappingStart or SequenceStart when ++depth > MaxDepth:
                    throw new AgentsFileException($"Invalid YAML: nested deeper than {MaxDepth} levels.");
                case MappingEnd or SequenceEnd:
                    depth--;
                    break;
            }
        }
    }

    private static AgentRole ParseRole(string name, YamlNode node)
    {
        if (node is not YamlMappingNode role)
        {
            throw new AgentsFileException($"Role '{name}' must be a mapping with role, goal, backstory and tasks.");
        }

        var tasks = Child(role, "tasks") switch
        {
            YamlMappingNode mapping => mapping.Children.Select(t => ParseTask(name, Scalar(t.Key), t.Value)).ToList(),
            null => [],
            _ => throw new AgentsFileException($"Role '{name}': 'tasks' must be a mapping of tasks."),
        };
        return new AgentRole(name, Text(role, "role") ?? name, Text(role, "goal") ?? "", Text(role, "backstory") ?? "", tasks);
    }

    private static AgentTask ParseTask(string role, string name, YamlNode node) =>
        node is YamlMappingNode task && Text(task, "description") is { Length: > 0 } description
            ? new AgentTask(name, description, Text(task, "expected_output") ?? "")
            : throw new AgentsFileException($"Task '{name}' of role '{role}' needs a 'description'.");

    private static YamlNode? Child(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private static string? Text(YamlMappingNode node, string key) => Child(node, key) switch
    {
        YamlScalarNode scalar => scalar.Value,
        null => null,
        _ => throw new AgentsFileException($"'{key}' must be text."),
    };

    private static string Scalar(YamlNode node) =>
        node is YamlScalarNode { Value: { } value } ? value : throw new AgentsFileException("Role and task names must be text.");
}

/// <summary>An agents file that cannot be run, with the reason.</summary>
public sealed class AgentsFileException(string message) : Exception(message);
