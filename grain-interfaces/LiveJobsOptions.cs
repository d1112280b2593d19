using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// The live-jobs quota (docs/api.md: Limits): how many queued and running jobs one tenant may have,
/// cluster-wide. Read by every gateway (submits and triggers) and every silo (schedule firings), from the
/// same setting. Section <c>Api</c>.
/// </summary>
public sealed class LiveJobsOptions
{
    public const string Section = "Api";

    /// <summary>
    /// Queued and running jobs one tenant may have, cluster-wide; past that a submit or trigger is 429
    /// with <c>Retry-After</c> and a schedule's firing is skipped. 0: no limit. Default: 10,000.
    /// </summary>
    public int MaxLiveJobsPerTenant { get; set; } = 10_000;

    /// <summary>True when a tenant with <paramref name="live"/> live jobs may have one more.</summary>
    public bool HasRoom(int live) => MaxLiveJobsPerTenant <= 0 || live < MaxLiveJobsPerTenant;

    /// <summary>Why a job was not made for a tenant at the quota.</summary>
    public string Refusal =>
        $"Too many live jobs: a tenant may have {MaxLiveJobsPerTenant} queued or running jobs (Api:MaxLiveJobsPerTenant)";

    public IEnumerable<string> Problems()
    {
        if (MaxLiveJobsPerTenant < 0)
        {
            yield return $"Api:MaxLiveJobsPerTenant must be 0 (no limit) or more, not {MaxLiveJobsPerTenant}.";
        }
    }
}

public static class LiveJobsHosting
{
    /// <summary>Binds and validates <see cref="LiveJobsOptions"/> once, however many parts of a process ask (embedded: gateway and silo).</summary>
    public static IServiceCollection AddLiveJobsOptions(this IServiceCollection services)
    {
        services.AddOptions<LiveJobsOptions>().BindConfiguration(LiveJobsOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LiveJobsOptions>>(
            new ProblemsValidator<LiveJobsOptions>(o => o.Problems())));
        return services;
    }
}
