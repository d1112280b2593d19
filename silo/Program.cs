using Microsoft.Extensions.Hosting;
using Praison.Orleans.Grains.Hosting;

var builder = Host.CreateApplicationBuilder(args);
var cluster = builder.Configuration.GetJobsClusterOptions(); // section Cluster: ids, ports, primary silo
builder.UseOrleans(silo => silo.ConfigureJobsSilo(cluster)); // storage, reminders, execution slots, recipes
builder.Build().Run();
