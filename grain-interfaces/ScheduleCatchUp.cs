namespace Praison.Orleans.GrainInterfaces;

/// <summary>What happens to firings missed while no silo could fire them (the whole cluster down).</summary>
[GenerateSerializer, Alias("Praison.ScheduleCatchUp")]
public enum ScheduleCatchUp
{
    /// <summary>Fire once, for the latest missed time (wire: <c>one</c>, the default).</summary>
    One = 0,

    /// <summary>Skip them (wire: <c>none</c>).</summary>
    None = 1,
}
