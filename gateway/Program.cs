using Praison.Orleans.Gateway;
using Praison.Orleans.Gateway.Hosting;

// The gateway: GatewayApp.cs is its table of contents; a submit and a cancel are handlers in
// Runs/RunsApi.cs, each one grain call (grains/Jobs/JobGrain.cs, whose state machine is
// grains/Jobs/JobTransitions.cs and store grains/Jobs/JobStore.cs); schedules are Schedules/SchedulesApi.cs,
// a firing ScheduleGrain.FireDueAsync (grains/Schedules/ScheduleGrain.cs).
GatewayApp.Build(args, overrides: ClusterHosting.StopWithinShutdownTimeout).Run();

/// <summary>The gateway's entry point, visible to tests that host it.</summary>
public partial class Program;
