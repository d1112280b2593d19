namespace Praison.Orleans.Grains.Schedules;

/// <summary>A schedule as storage holds it (see <see cref="ScheduleSnapshot"/> for the fields' meaning).</summary>
[GenerateSerializer, Alias("Praison.ScheduleRecord")]
public sealed class ScheduleRecord : Storage.ICommittedRecord<ScheduleRecord>
{
    [Id(0)] public ScheduleSpec Spec { get; set; } = null!;

    [Id(1)] public DateTimeOffset CreatedAt { get; set; }

    [Id(2)] public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The next firing not yet handled; null while paused.</summary>
    [Id(3)] public DateTimeOffset? NextRunAt { get; set; }

    /// <summary>The last firing handled (fired or skipped).</summary>
    [Id(4)] public DateTimeOffset? LastRunAt { get; set; }

    [Id(5)] public string? LastJobId { get; set; }

    [Id(6)] public long Runs { get; set; }

    [Id(7)] public long Skipped { get; set; }

    [Id(8)] public string? LastError { get; set; }

    /// <summary>Triggers that made a job; the next one's job id is derived from the count after it.</summary>
    [Id(9)] public long Triggers { get; set; }

    [Id(10)] public long Revision { get; set; }

    /// <summary>A batch schedule's last batch (its then job is <see cref="LastJobId"/>).</summary>
    [Id(11)] public string? LastBatchId { get; set; }

    /// <summary>A copy to change and commit; every member is immutable, so a shallow copy is a full one.</summary>
    public ScheduleRecord Copy() => (ScheduleRecord)MemberwiseClone();
}

/// <summary>A tenant's schedule ids in creation order.</summary>
[GenerateSerializer, Alias("Praison.ScheduleDirectoryRecord")]
public sealed class ScheduleDirectoryRecord : Storage.ICommittedRecord<ScheduleDirectoryRecord>
{
    [Id(0)] public List<string> Ids { get; set; } = [];

    [Id(1)] public long Revision { get; set; }

    public ScheduleDirectoryRecord Copy() => new() { Ids = [.. Ids], Revision = Revision };
}
