using Microsoft.Extensions.Options;

namespace Praison.Orleans.Gateway.Http;

/// <summary>
/// What an API handler works with besides its route values, as one <c>[AsParameters]</c> parameter: the
/// request, the cluster's grains, the API's limits, the checks a submit passes, the clock.
/// </summary>
internal readonly record struct ApiServices(
    HttpContext Context,
    IGrainFactory Grains,
    IOptions<ApiOptions> Options,
    WebhookTargets Webhooks,
    LiveJobQuota LiveJobs,
    TimeProvider Time,
    CancellationToken Aborted)
{
    /// <summary>The tenant the request's API key names (the one tenant without keys).</summary>
    public string Tenant => Auth.Tenancy.TenantOf(Context.User);

    public ApiOptions Limits => Options.Value;

    /// <summary>Where the caller reached the API: the base of the links it is given (and a webhook's <c>result_url</c>).</summary>
    public string ApiBase => $"{Context.Request.Scheme}://{Context.Request.Host}{Context.Request.PathBase}";

    /// <summary>A job with a webhook learns where the caller reached the API, for the webhook's <c>result_url</c>.</summary>
    public JobSpec WithApiBase(JobSpec job) => job.WebhookUrl is null ? job : job with { ApiBaseUrl = ApiBase };

    /// <summary>The request tenant's job <paramref name="jobId"/>; another tenant's job is a grain with nothing in it.</summary>
    public IJobGrain Job(string jobId) => Grains.Job(Tenant, jobId);

    /// <summary>The request tenant's schedule <paramref name="scheduleId"/>.</summary>
    public IScheduleGrain Schedule(string scheduleId) => Grains.Schedule(Tenant, scheduleId);
}
