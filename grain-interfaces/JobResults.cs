using System.Text.Json;

namespace Praison.Orleans.GrainInterfaces;

/// <summary>A job's result (JSON text) as people and models read it.</summary>
public static class JobResults
{
    /// <summary>A string result as its text, any other JSON value as its JSON; empty for none.</summary>
    public static string Text(string? resultJson)
    {
        if (resultJson is null)
        {
            return "";
        }

        using var result = JsonDocument.Parse(resultJson);
        return result.RootElement.ValueKind == JsonValueKind.String ? result.RootElement.GetString()! : resultJson;
    }
}
