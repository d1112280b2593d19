using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Praison.Orleans.Grains.Hosting;
using Praison.Orleans.Grains.Telemetry;

// A silo runs the grains. Where to read on: a job is grains/Jobs/JobGrain.cs (its requests, with
// JobGrain.*.cs beside it), its state machine grains/Jobs/JobTransitions.cs, its store
// grains/Jobs/JobStore.cs; a schedule's firing is ScheduleGrain.FireDueAsync (grains/Schedules/); what
// a silo is made of, ConfigureJobsSilo (grains/Hosting/JobsHosting.cs).
var builder = Host.CreateApplicationBuilder(args);
var cluster = builder.Configuration.GetJobsClusterOptions(); // section Cluster: ids, ports, storage
builder.UseOrleans(silo => silo.ConfigureJobsSilo(cluster)); // storage, reminders, execution slots, recipes
builder.Services.AddSingleton(cluster).AddBoundedShutdown();  // asked to stop, it exits within Cluster:ShutdownTimeout
builder.Services.AddJobsTelemetry(builder.Configuration);     // metrics over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set
builder.Build().Run();
