using Praison.Orleans.Gateway;
using Praison.Orleans.Gateway.Hosting;

GatewayApp.Build(args, overrides: ClusterHosting.StopWithinShutdownTimeout).Run();

/// <summary>The gateway's entry point, visible to tests that host it.</summary>
public partial class Program;
