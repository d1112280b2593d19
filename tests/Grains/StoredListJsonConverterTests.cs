using Newtonsoft.Json;
using Praison.Orleans.Grains.Batches;
using Praison.Orleans.Grains.Storage;

namespace Praison.Orleans.Tests.Grains;

/// <summary>
/// Lists in Orleans' JSON (Azure Blob grain state, with its settings: every type named): a collection
/// expression's compiler-made list is stored as an array, and a record stored before, naming that type, is read.
/// </summary>
public sealed class StoredListJsonConverterTests
{
    private static readonly JobSpec Spec = Specs.Recipe("echo") with { DependsOn = ["run_000000000001"] }; // a compiler-made list

    [Fact]
    public void ACollectionExpressionsList_IsWrittenAsAnArray_AndReadBack()
    {
        var json = JsonConvert.SerializeObject(Record(), Settings(withConverter: true));
        var back = JsonConvert.DeserializeObject<BatchRecord>(json, Settings(withConverter: true))!;

        Assert.Contains("\"System.String[], System.Private.CoreLib\"", json, StringComparison.Ordinal);
        Assert.DoesNotContain("<>z__", json, StringComparison.Ordinal);
        Assert.Equal(["run_000000000001"], back.ThenSpec!.DependsOn);
        Assert.Equal(["run_000000000001"], JsonConvert.DeserializeObject<BatchRecord>(json, Settings(withConverter: false))!.ThenSpec!.DependsOn); // readable without it
    }

    [Fact]
    public void ARecordStoredNamingTheCompilerMadeType_IsRead()
    {
        var stored = JsonConvert.SerializeObject(Record(), Settings(withConverter: false));
        Assert.Contains("<>z__", stored, StringComparison.Ordinal);
        Assert.Throws<JsonSerializationException>(() => JsonConvert.DeserializeObject<BatchRecord>(stored, Settings(withConverter: false)));

        var back = JsonConvert.DeserializeObject<BatchRecord>(stored, Settings(withConverter: true))!;

        Assert.Equal(["run_000000000001"], back.ThenSpec!.DependsOn);
        Assert.Equal(["a", "b"], back.JobIds);
    }

    private static BatchRecord Record() => new() { JobIds = ["a", "b"], States = [0, 0], Specs = [Spec, Spec], ThenSpec = Spec };

    /// <summary>Orleans' defaults for its JSON (OrleansJsonSerializerSettings), and the converter as the silo adds it.</summary>
    private static JsonSerializerSettings Settings(bool withConverter)
    {
        var settings = new JsonSerializerSettings
        {
            TypeNameHandling = TypeNameHandling.All,
            PreserveReferencesHandling = PreserveReferencesHandling.Objects,
            DefaultValueHandling = DefaultValueHandling.Ignore,
            NullValueHandling = NullValueHandling.Ignore,
            TypeNameAssemblyFormatHandling = TypeNameAssemblyFormatHandling.Simple,
        };
        if (withConverter)
        {
            settings.Converters.Insert(0, new StoredListJsonConverter());
        }

        return settings;
    }
}
