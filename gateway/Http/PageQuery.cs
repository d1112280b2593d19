using System.Globalization;

namespace Praison.Orleans.Gateway.Http;

/// <summary>
/// A list's page in the query string (docs/api.md): <c>page</c> ≥ 1 (default 1) and <c>page_size</c>
/// 1–<see cref="MaxPageSize"/> (default 20), each a 422 naming it when out of range.
/// </summary>
internal readonly record struct PageQuery(int Page, int PageSize)
{
    public const int MaxPageSize = 100;

    /// <summary>How deep a listing may page: the last entry a page may reach.</summary>
    public const int MaxDepth = 10_000;

    /// <summary>The page asked for; its errors (by field) added to <paramref name="errors"/>.</summary>
    public static PageQuery Read(IQueryCollection query, Dictionary<string, string[]> errors) =>
        new(Number(query, "page", 1, 1, MaxDepth, errors), Number(query, "page_size", 20, 1, MaxPageSize, errors));

    private static int Number(IQueryCollection query, string name, int fallback, int min, int max, Dictionary<string, string[]> errors)
    {
        var text = query[name].ToString();
        if (text.Length == 0)
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            errors[name] = [$"Must be a whole number from {min} to {max}"];
        }

        return value;
    }
}
