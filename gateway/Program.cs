using Praison.Orleans.Gateway;
using Praison.Orleans.Grains.Hosting;

// Asked to stop, the process exits within Cluster:ShutdownTimeout (not in tests that host the gateway).
GatewayApp.Build(args, overrides: services => services.AddBoundedShutdown()).Run();

/// <summary>The gateway's entry point, visible to tests that host it.</summary>
public partial class Program;
