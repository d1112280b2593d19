using System.Reflection;

namespace Praison.Orleans.Tests.Contracts;

/// <summary>
/// Pins the wire contract of grain-interfaces: enum values, the <c>[Id]</c> of every serialized member
/// and every <c>[Alias]</c>. Silos and gateways of different builds talk through these; a change here
/// must be an append, never a renumbering.
/// </summary>
public sealed class WireContractTests
{
    // The contract types themselves, not the proxies Orleans generates beside them.
    private static readonly Type[] ContractTypes = typeof(IJobGrain).Assembly.GetExportedTypes()
        .Where(t => t.Namespace == typeof(IJobGrain).Namespace)
        .ToArray();

    [Fact]
    public void EnumValues_ArePinned()
    {
        var expected = new Dictionary<Type, string>
        {
            [typeof(JobStatus)] = "Queued=0 Running=1 Succeeded=2 Failed=3 Cancelled=4",
            [typeof(SubmitStatus)] = "Accepted=0 IdTaken=1 Rejected=2 Existing=3 Unreadable=4",
            [typeof(JobCommandStatus)] = "Done=0 NotFound=1 WrongState=2",
            [typeof(JobEventKind)] = "Status=0 Progress=1 Result=2 Error=3 Cancelled=4",
            [typeof(ScheduleOverlap)] = "Skip=0 Allow=1",
            [typeof(ScheduleCatchUp)] = "One=0 None=1",
            [typeof(ScheduleCommandStatus)] = "Done=0 Created=1 NotFound=2 Exists=3 Rejected=4 TooMany=5",
            [typeof(RunIf)] = "Succeeded=0 Finished=1 AnySucceeded=2",
            [typeof(DependantStatus)] = "Added=0 NotFound=1 Full=2",
            [typeof(BatchCommandStatus)] = "Done=0 NotFound=1 WrongState=2 IdTaken=3 Rejected=4",
        };
        var enums = ContractTypes.Where(t => t.IsEnum).ToList();

        Assert.Equal(expected.Keys.Select(t => t.Name).Order(), enums.Select(t => t.Name).Order());
        foreach (var type in enums)
        {
            var actual = string.Join(" ", Enum.GetValues(type).Cast<object>().Select(v => $"{v}={Convert.ToInt32(v)}"));
            Assert.Equal(expected[type], actual);
        }
    }

    [Fact]
    public void SerializedMembers_KeepTheirIds()
    {
        var expected = new Dictionary<string, string>
        {
            ["JobSpec"] = "Prompt=0 RecipeName=1 RecipeConfigJson=2 AgentFile=3 AgentYaml=4 Framework=5 ConfigJson=6 WebhookUrl=7 TimeoutSeconds=8 SessionId=9 IdempotencyKey=10 MaxAttempts=11 RunAt=12 ScheduleId=13 ApiBaseUrl=14 Priority=15 ConcurrencyKey=16 ConcurrencyLimit=17 SingletonKey=18 SingletonSeconds=19 DependsOn=20 RunIf=21 BatchId=22",
            ["JobProgress"] = "Percentage=0 CurrentStep=1 StepsCompleted=2 StepsTotal=3",
            ["JobSnapshot"] = "JobId=0 Status=1 Progress=2 CreatedAt=3 StartedAt=4 CompletedAt=5 AgentId=6 SessionId=7 Error=8 Attempt=9 CancelledAt=10 Webhook=11 ScheduledFor=12 ScheduleId=13 Priority=14 ConcurrencyKey=15 Waiting=16 DependsOn=17 RunIf=18 WaitingFor=19 Dependants=20 BatchId=21",
            ["JobEnd"] = "JobId=0 Status=1 ResultJson=2 Error=3 SomeSucceeded=4",
            ["BatchSpec"] = "Jobs=0 Then=1",
            ["BatchCounts"] = "Queued=0 Running=1 Succeeded=2 Failed=3 Cancelled=4 Missing=5",
            ["BatchSnapshot"] = "BatchId=0 Status=1 Total=2 Counts=3 CreatedAt=4 CompletedAt=5 CancelledAt=6 ThenJobId=7 Creating=8",
            ["BatchReply"] = "Status=0 Batch=1 Field=2 Error=3",
            ["WebhookDelivery"] = "Pending=0 DeliveredAt=1 Error=2 NextRoundAt=3",
            ["JobOutcome"] = "Job=0 ResultJson=1 MetricsJson=2",
            ["SubmitReply"] = "Status=0 Job=1 Field=2 Error=3",
            ["JobCommandReply"] = "Status=0 Job=1",
            ["JobResultReply"] = "Status=0 Job=1 Outcome=2",
            ["SiloExecutorStats"] = "RunningJobs=0 MaxConcurrent=1 DefaultTimeoutSeconds=2",
            ["JobEvent"] = "Id=0 Kind=1 Status=2 Percentage=3 Step=4 Text=5",
            ["JobIndexEntry"] = "Tenant=0 Job=1 Version=2 HasIdempotencyKey=3 Removed=4",
            ["JobListQuery"] = "Tenant=0 Status=1 SessionId=2 Page=3 PageSize=4 ScheduleId=5 Priority=6 BatchId=7",
            ["ScheduleSpec"] = "Cron=0 TimeZone=1 Job=2 Overlap=3 CatchUp=4 Paused=5 Batch=6",
            ["SchedulePatch"] = "Cron=0 TimeZone=1 Job=2 Overlap=3 CatchUp=4 Paused=5 Batch=6",
            ["ScheduleSnapshot"] = "ScheduleId=0 Spec=1 CreatedAt=2 UpdatedAt=3 NextRunAt=4 LastRunAt=5 LastJobId=6 Runs=7 Skipped=8 LastError=9 LastBatchId=10",
            ["ScheduleReply"] = "Status=0 Schedule=1 Field=2 Error=3",
            ["JobListPage"] = "Jobs=0 Total=1",
            ["JobStoreStats"] = "TotalJobs=0 IdempotencyKeys=1 StatusCounts=2",
            ["KeyLimits"] = "Concurrency=0 Starts=1 Period=2",
            ["KeyLeaseRequest"] = "JobId=0 LeaseId=1 Silo=2 Priority=3 Limits=4 AskedAt=5",
            ["KeyLeaseReport"] = "Held=0 Waiting=1",
            ["HeldKeyLease"] = "Request=0 GrantedAt=1",
            ["KeyLeaseCounts"] = "Running=0 Waiting=1",
            ["KeyTally"] = "Key=0 Running=1 Waiting=2 Limits=3",
            ["JobStorageException"] = "", // no members of its own: message and type only
        };
        var records = ContractTypes
            .Where(t => !t.IsEnum && t.GetCustomAttribute<GenerateSerializerAttribute>() is not null)
            .ToList();

        Assert.Equal(expected.Keys.Order(), records.Select(t => t.Name).Order());
        foreach (var type in records)
        {
            var ids = type.GetProperties()
                .Select(p => (p.Name, Id: p.GetCustomAttribute<IdAttribute>()?.Id))
                .Where(p => p.Id is not null)
                .OrderBy(p => p.Id)
                .Select(p => $"{p.Name}={p.Id}");
            Assert.Equal(expected[type.Name], string.Join(" ", ids));
        }
    }

    [Fact]
    public void Aliases_ArePinned()
    {
        var expected = new[]
        {
            "IJobGrain=Praison.IJobGrain", "IJobRecoveryGrain=Praison.IJobRecoveryGrain", "ISiloStatsGrain=Praison.ISiloStatsGrain",
            "JobStorageException=Praison.JobStorageException",
            "JobCommandReply=Praison.JobCommandReply", "JobCommandStatus=Praison.JobCommandStatus",
            "JobEvent=Praison.JobEvent", "JobEventKind=Praison.JobEventKind",
            "IJobQueryGrain=Praison.IJobQueryGrain", "IIdempotencyGrain=Praison.IIdempotencyGrain", "JobIndexEntry=Praison.JobIndexEntry",
            "JobListPage=Praison.JobListPage", "JobListQuery=Praison.JobListQuery", "JobStoreStats=Praison.JobStoreStats",
            "JobOutcome=Praison.JobOutcome", "JobProgress=Praison.JobProgress", "JobResultReply=Praison.JobResultReply",
            "JobSnapshot=Praison.JobSnapshot", "JobSpec=Praison.JobSpec", "JobStatus=Praison.JobStatus",
            "SiloExecutorStats=Praison.SiloExecutorStats", "SubmitReply=Praison.SubmitReply",
            "SubmitStatus=Praison.SubmitStatus", "WebhookDelivery=Praison.WebhookDelivery",
            "IScheduleGrain=Praison.IScheduleGrain", "IScheduleDirectoryGrain=Praison.IScheduleDirectoryGrain",
            "ScheduleSpec=Praison.ScheduleSpec", "SchedulePatch=Praison.SchedulePatch", "ScheduleSnapshot=Praison.ScheduleSnapshot",
            "ScheduleReply=Praison.ScheduleReply", "ScheduleOverlap=Praison.ScheduleOverlap", "ScheduleCatchUp=Praison.ScheduleCatchUp",
            "ScheduleCommandStatus=Praison.ScheduleCommandStatus",
            "IConcurrencyKeyGrain=Praison.IConcurrencyKeyGrain", "IKeyLeaseAgentGrain=Praison.IKeyLeaseAgentGrain",
            "KeyLimits=Praison.KeyLimits", "KeyLeaseRequest=Praison.KeyLeaseRequest", "KeyLeaseReport=Praison.KeyLeaseReport",
            "HeldKeyLease=Praison.HeldKeyLease", "KeyLeaseCounts=Praison.KeyLeaseCounts", "ISingletonKeyGrain=Praison.ISingletonKeyGrain", "KeyTally=Praison.KeyTally",
            "RunIf=Praison.RunIf", "JobEnd=Praison.JobEnd", "DependantStatus=Praison.DependantStatus",
            "IJobParent=Praison.IJobParent", "IBatchGrain=Praison.IBatchGrain", "BatchSpec=Praison.BatchSpec", "BatchCounts=Praison.BatchCounts",
            "BatchSnapshot=Praison.BatchSnapshot", "BatchReply=Praison.BatchReply", "BatchCommandStatus=Praison.BatchCommandStatus",
        };
        var actual = ContractTypes
            .Select(t => (t.Name, Alias: t.GetCustomAttribute<AliasAttribute>()?.Alias))
            .Where(t => t.Alias is not null)
            .Select(t => $"{t.Name}={t.Alias}")
            .Order(StringComparer.Ordinal);

        Assert.Equal(expected.Order(StringComparer.Ordinal), actual);
    }

    [Fact]
    public void GrainMethods_HaveStableAliases()
    {
        var actual = new[]
            {
                typeof(IJobGrain), typeof(IJobParent), typeof(IBatchGrain), typeof(IJobRecoveryGrain), typeof(ISiloStatsGrain), typeof(IJobQueryGrain), typeof(IIdempotencyGrain),
                typeof(IScheduleGrain), typeof(IScheduleDirectoryGrain), typeof(ISingletonKeyGrain), typeof(IConcurrencyKeyGrain), typeof(IKeyLeaseAgentGrain),
            }
            .SelectMany(t => t.GetMethods().Select(m => $"{t.Name}.{m.Name}={m.GetCustomAttribute<AliasAttribute>()?.Alias}"))
            .Order(StringComparer.Ordinal);

        Assert.Equal(
            new[]
            {
                "IIdempotencyGrain.FindAsync=Find", "IIdempotencyGrain.ReleaseAsync=Release", "IIdempotencyGrain.SubmitAsync=Submit",
                "IJobParent.AddDependantAsync=AddDependant", "IJobParent.AwaitEndAsync=AwaitEnd", "IJobParent.DependantSettledAsync=DependantSettled",
                "IJobGrain.CancelAsync=Cancel", "IJobGrain.DeleteAsync=Delete",
                "IBatchGrain.CreateAsync=Create", "IBatchGrain.AwaitCreatedAsync=AwaitCreated", "IBatchGrain.GetAsync=Get", "IBatchGrain.JobIdsAsync=JobIds",
                "IBatchGrain.CancelAsync=Cancel", "IBatchGrain.DeleteAsync=Delete", "IBatchGrain.WatchAsync=Watch", "IBatchGrain.JobChangedAsync=JobChanged",
                "IJobGrain.GetResultAsync=GetResult", "IJobGrain.GetStatusAsync=GetStatus", "IJobGrain.SubmitAsync=Submit",
                "IJobGrain.WaitsOnAsync=WaitsOn", "IJobGrain.WatchAsync=Watch",
                "IJobQueryGrain.ListAsync=List", "IJobQueryGrain.LiveCountAsync=LiveCount", "IJobQueryGrain.StatsAsync=Stats", "IJobRecoveryGrain.CatchUpAsync=CatchUp", "IJobRecoveryGrain.EvictAsync=Evict", "ISiloStatsGrain.GetAsync=Get",
                "IScheduleDirectoryGrain.ListAsync=List", "IScheduleDirectoryGrain.RemoveAsync=Remove", "IScheduleDirectoryGrain.TryAddAsync=TryAdd",
                "IScheduleGrain.CreateAsync=Create", "IScheduleGrain.DeleteAsync=Delete", "IScheduleGrain.GetAsync=Get",
                "IScheduleGrain.TriggerAsync=Trigger", "IScheduleGrain.UpdateAsync=Update", "ISingletonKeyGrain.SubmitAsync=Submit",
                "IConcurrencyKeyGrain.AcquireAsync=Acquire", "IConcurrencyKeyGrain.ReleaseAsync=Release", "IConcurrencyKeyGrain.GetCountsAsync=Counts",
                "IKeyLeaseAgentGrain.GrantedAsync=Granted", "IKeyLeaseAgentGrain.GetLeasesAsync=Leases", "IKeyLeaseAgentGrain.GetKeysAsync=Keys",
            }.Order(StringComparer.Ordinal),
            actual);
    }
}
