namespace Praison.Orleans.Grains.Agents;

/// <summary>Where <c>agent_file</c> paths may point. Section <c>Agents</c>.</summary>
public sealed class AgentsOptions
{
    public const string Section = "Agents";

    /// <summary>
    /// The folder (on the silos) that <c>agent_file</c> paths are read from, relative to it or inside
    /// it; nothing outside is read. Default: none — <c>agent_file</c> is refused, <c>agent_yaml</c> works.
    /// </summary>
    public string? FileRoot { get; set; }
}
