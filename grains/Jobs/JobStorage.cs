namespace Praison.Orleans.Grains.Jobs;

/// <summary>Names of the storage the job grains use.</summary>
public static class JobStorage
{
    /// <summary>The grain storage provider holding job records.</summary>
    public const string Name = "jobs";
}
