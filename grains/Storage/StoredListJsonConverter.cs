using System.Collections;
using System.Runtime.CompilerServices;
using Newtonsoft.Json;

namespace Praison.Orleans.Grains.Storage;

/// <summary>
/// Writes and reads the lists in state stored as Orleans' JSON (Azure Blob storage) as arrays. A
/// collection expression (<c>DependsOn = [batchId]</c>) gives an <c>IReadOnlyList&lt;T&gt;</c> a type the
/// compiler made, which Orleans' JSON names in <c>$type</c> and then cannot make again on reading: the
/// grain's activation failed, and the record could not be read at all. So a list of a compiler-made
/// type is written as <c>T[]</c> (readable with or without this converter), and a list-typed member is
/// read as <c>T[]</c> whatever type its JSON names (so records written before are read too).
/// </summary>
internal sealed class StoredListJsonConverter : JsonConverter
{
    private static readonly HashSet<Type> ListInterfaces =
        [typeof(IReadOnlyList<>), typeof(IReadOnlyCollection<>), typeof(IEnumerable<>), typeof(IList<>), typeof(ICollection<>)];

    public override bool CanConvert(Type objectType) => ElementOf(objectType) is not null;

    public override void WriteJson(JsonWriter writer, object? value, JsonSerializer serializer)
    {
        if (value is null)
        {
            writer.WriteNull();
            return;
        }

        var items = ((IEnumerable)value).Cast<object?>().ToList();
        var array = Array.CreateInstance(ElementOf(value.GetType())!, items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            array.SetValue(items[i], i);
        }

        serializer.Serialize(writer, array, array.GetType());
    }

    public override object? ReadJson(JsonReader reader, Type objectType, object? existingValue, JsonSerializer serializer)
    {
        var arrayType = ElementOf(objectType)!.MakeArrayType();
        switch (reader.TokenType)
        {
            case JsonToken.Null:
                return null;
            case JsonToken.StartArray:
                return serializer.Deserialize(reader, arrayType);
            case JsonToken.StartObject: // {"$type": …, "$values": [...]}: the values, whatever type was named
                object? values = null;
                while (reader.Read() && reader.TokenType == JsonToken.PropertyName)
                {
                    var name = (string)reader.Value!;
                    reader.Read();
                    if (name == "$values")
                    {
                        values = serializer.Deserialize(reader, arrayType);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }

                return values ?? Array.CreateInstance(arrayType.GetElementType()!, 0);
            default:
                throw new JsonSerializationException($"A stored list was expected, not {reader.TokenType} (path {reader.Path}).");
        }
    }

    /// <summary>
    /// The element type of a list this converter takes: a list interface (a member's declared type, on
    /// reading), or a compiler-made list (a collection expression's value, on writing); null for any other type.
    /// </summary>
    private static Type? ElementOf(Type type)
    {
        if (type.IsInterface)
        {
            return type.IsGenericType && ListInterfaces.Contains(type.GetGenericTypeDefinition()) ? type.GetGenericArguments()[0] : null;
        }

        return type.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false)
            ? type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IReadOnlyList<>))?.GetGenericArguments()[0]
            : null;
    }
}
