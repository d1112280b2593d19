using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Praison.Orleans.Grains.Hosting;

/// <summary>
/// A process that was asked to stop (SIGTERM, SIGINT) exits within <see cref="JobsClusterOptions.ShutdownTimeout"/>,
/// as an orchestrator's grace period expects: the host gets that long to stop (a silo hands its jobs
/// on), and should it still be running a few seconds later — storage unreachable, say, with Orleans
/// retrying its membership writes — the process ends itself. A second signal while stopping ends it at once.
/// </summary>
public static partial class BoundedShutdown
{
    /// <summary>How long past the host's own shutdown timeout the process waits before it ends itself.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Bounds this process's shutdown by <see cref="JobsClusterOptions.ShutdownTimeout"/> (from the
    /// registered options). For a process's entry point only: a test host that stops a gateway and
    /// carries on must not end itself a while later.
    /// </summary>
    public static IServiceCollection AddBoundedShutdown(this IServiceCollection services)
    {
        services.AddOptions<HostOptions>().Configure<JobsClusterOptions>((o, cluster) => o.ShutdownTimeout = cluster.ShutdownTimeout);
        services.AddHostedService(provider => new Watch(
            provider.GetRequiredService<IHostApplicationLifetime>(),
            provider.GetRequiredService<ILogger<Watch>>(),
            provider.GetRequiredService<JobsClusterOptions>().ShutdownTimeout + Grace));
        return services;
    }

    /// <summary>Ends the process without waiting for anything (a SIGKILL of itself).</summary>
    private static void EndNow() => Process.GetCurrentProcess().Kill();

    internal sealed partial class Watch(IHostApplicationLifetime lifetime, ILogger<Watch> logger, TimeSpan limit) : IHostedService, IDisposable
    {
        private readonly List<PosixSignalRegistration> _signals = [];
        private CancellationTokenRegistration _stopping;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            _stopping = lifetime.ApplicationStopping.Register(() =>
            {
                var deadline = new Thread(() =>
                {
                    Thread.Sleep(limit);
                    LogEnding(logger, limit);
                    Thread.Sleep(200); // let the console logger write it
                    EndNow();
                }) { IsBackground = true, Name = "bounded shutdown" };
                deadline.Start();
            });
            foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT })
            {
                _signals.Add(PosixSignalRegistration.Create(signal, context =>
                {
                    if (lifetime.ApplicationStopping.IsCancellationRequested)
                    {
                        EndNow(); // asked twice: no more waiting
                    }
                }));
            }

            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void Dispose()
        {
            _stopping.Dispose();
            _signals.ForEach(s => s.Dispose());
        }

        [LoggerMessage(Level = LogLevel.Error, Message = "Still running {Limit} after being asked to stop: ending the process now")]
        private static partial void LogEnding(ILogger logger, TimeSpan limit);
    }
}
