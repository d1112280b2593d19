using System.Globalization;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;

namespace Praison.Orleans.Client;

public sealed partial class PraisonJobsClient
{
    /// <summary>Creates a schedule (docs/api.md "Schedules"); a 409 <see cref="PraisonJobsException"/> for an id in use, a 422 naming a field it cannot take.</summary>
    public Task<ScheduleInfo> CreateScheduleAsync(ScheduleRequest schedule, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return SendAsync(Posting("api/v1/schedules", JsonContent.Create(schedule, ClientJson.Default.ScheduleRequest)),
            ClientJson.Default.ScheduleInfo, cancellationToken);
    }

    public Task<ScheduleInfo> GetScheduleAsync(string scheduleId, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"api/v1/schedules/{Escaped(scheduleId)}", ClientJson.Default.ScheduleInfo, cancellationToken);

    /// <summary>The tenant's schedules, newest first, page by page as they are read.</summary>
    public async IAsyncEnumerable<ScheduleInfo> ListSchedulesAsync(int pageSize = 100, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var page = 1; ; page++)
        {
            var read = await SendAsync(HttpMethod.Get, string.Create(CultureInfo.InvariantCulture, $"api/v1/schedules?page={page}&page_size={pageSize}"),
                ClientJson.Default.SchedulePage, cancellationToken);
            foreach (var schedule in read.Schedules)
            {
                yield return schedule;
            }

            if (read.Schedules.Count < pageSize || (long)page * pageSize >= read.Total)
            {
                yield break;
            }
        }
    }

    /// <summary>Changes the fields <paramref name="update"/> gives; a new cron or time zone counts from now.</summary>
    public Task<ScheduleInfo> UpdateScheduleAsync(string scheduleId, ScheduleUpdate update, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(update);
        return SendAsync(new HttpRequestMessage(HttpMethod.Patch, $"api/v1/schedules/{Escaped(scheduleId)}")
        {
            Content = JsonContent.Create(update, ClientJson.Default.ScheduleUpdate),
        }, ClientJson.Default.ScheduleInfo, cancellationToken);
    }

    public Task<ScheduleInfo> PauseScheduleAsync(string scheduleId, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/schedules/{Escaped(scheduleId)}/pause", ClientJson.Default.ScheduleInfo, cancellationToken);

    /// <summary>Resumes the schedule from now: firings missed while it was paused are not run.</summary>
    public Task<ScheduleInfo> ResumeScheduleAsync(string scheduleId, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/schedules/{Escaped(scheduleId)}/resume", ClientJson.Default.ScheduleInfo, cancellationToken);

    /// <summary>Submits the schedule's job now (a batch schedule's batch, answering with its then job), within the submit rate and live-jobs quota.</summary>
    public Task<SubmittedJob> TriggerScheduleAsync(string scheduleId, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"api/v1/schedules/{Escaped(scheduleId)}/trigger", ClientJson.Default.SubmittedJob, cancellationToken);

    /// <summary>Deletes the schedule; the jobs it submitted stay.</summary>
    public Task DeleteScheduleAsync(string scheduleId, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, $"api/v1/schedules/{Escaped(scheduleId)}", cancellationToken);
}
