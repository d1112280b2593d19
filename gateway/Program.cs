using Praison.Orleans.Gateway;

GatewayApp.Build(args).Run();

/// <summary>The gateway's entry point, visible to tests that host it.</summary>
public partial class Program;
