using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Praison.Orleans.Gateway.Http;

/// <summary>
/// The one way a JSON request body is read (submits, schedules): parsed as a JSON object whatever its
/// content type (so a bare <c>curl -d</c> works), 400 when it is not JSON or holds invalid text, 413 past
/// the body limit, 422 naming every bad field. Unknown fields are ignored. One rule for every field:
/// absent and JSON <c>null</c> are "not given", and so is an empty string where a field is optional;
/// a required field's empty string is a value (an empty prompt is a prompt).
/// </summary>
internal abstract class JsonBodyReader(JsonElement body)
{
    private readonly Dictionary<string, string[]> _errors = new(StringComparer.Ordinal);

    protected JsonElement Body { get; } = body;

    /// <summary>The errors so far, by field.</summary>
    protected IReadOnlyDictionary<string, string[]> Errors => _errors;

    protected bool HasErrors => _errors.Count > 0;

    /// <summary>The 422 of the errors so far.</summary>
    protected ProblemHttpResult Refusal() => ApiProblems.Validation(_errors);

    /// <summary>
    /// Parses the body as a JSON object (or the problem that refuses it) and reads it with
    /// <paramref name="read"/> (given <paramref name="state"/>, so a static lambda allocates nothing),
    /// which holds no reference to the document past its return.
    /// </summary>
    public static async Task<Parsed<T>> ReadAsync<T, TState>(
        HttpRequest request, long bodyLimit, TState state, Func<JsonElement, TState, Parsed<T>> read, CancellationToken cancellationToken)
        where T : class
    {
        if (!(await ParseObjectAsync(request, bodyLimit, cancellationToken)).TryGet(out var document, out var problem))
        {
            return problem;
        }

        using (document)
        {
            return read(document.RootElement, state);
        }
    }

    private static async Task<Parsed<JsonDocument>> ParseObjectAsync(HttpRequest request, long bodyLimit, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
        }
        catch (JsonException exception)
        {
            return ApiProblems.Problem(StatusCodes.Status400BadRequest, $"Malformed JSON body: {exception.Message}");
        }
        catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return ApiProblems.Problem(StatusCodes.Status413PayloadTooLarge, DeclaredBodyLimit.TooLarge(bodyLimit)); // a chunked body past the limit
        }

        ProblemHttpResult? problem = null;
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            problem = ApiProblems.Validation(new Dictionary<string, string[]> { ["body"] = ["Request body must be a JSON object"] });
        }
        else if (FieldWithInvalidText(document.RootElement) is { } field)
        {
            problem = ApiProblems.Problem(StatusCodes.Status400BadRequest,
                $"Invalid text in field '{field}': strings must be valid UTF-8 with no lone surrogates.");
        }

        if (problem is null)
        {
            return document;
        }

        document.Dispose();
        return problem;
    }

    /// <summary>
    /// The top-level field holding a string or name that is not valid Unicode (invalid UTF-8, or an
    /// escaped lone surrogate such as <c>"\ud800"</c>), which the parser accepts and only reading it as
    /// text refuses; null when all is valid. Nesting is bounded by the parser's depth limit (64).
    /// </summary>
    private static string? FieldWithInvalidText(JsonElement body)
    {
        foreach (var property in body.EnumerateObject())
        {
            string name;
            try
            {
                name = property.Name;
            }
            catch (InvalidOperationException)
            {
                return "body";
            }

            if (!IsValidText(property.Value))
            {
                return name;
            }
        }

        return null;
    }

    private static bool IsValidText(JsonElement element)
    {
        try
        {
            return element.ValueKind switch
            {
                JsonValueKind.String => element.GetString() is not null,
                JsonValueKind.Array => element.EnumerateArray().All(IsValidText),
                JsonValueKind.Object => element.EnumerateObject().All(p => p.Name is not null && IsValidText(p.Value)),
                _ => true,
            };
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The field's value; null when it is absent or JSON null.</summary>
    protected JsonElement? Optional(string field) =>
        Body.TryGetProperty(field, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    /// <summary>Present and not JSON null.</summary>
    protected bool Given(string field) => Optional(field) is not null;

    /// <summary>
    /// A text field of at most <paramref name="maxLength"/> characters (<paramref name="setting"/>, when
    /// given, names the limit's setting); null when not given — or wrong, the error then recorded.
    /// </summary>
    protected string? Text(string field, int maxLength = int.MaxValue, string? setting = null, bool required = false)
    {
        if (Optional(field) is not { } value)
        {
            return required ? Error(field, "Field required") : null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            return Error(field, required ? "Must be a string" : "Must be a string or null");
        }

        var text = value.GetString()!;
        return text.Length == 0 && !required ? null
            : text.Length <= maxLength ? text
            : Error(field, $"Must be at most {maxLength} characters" + (setting is null ? "" : $" ({setting})"));
    }

    /// <summary>A JSON object field as its raw text, at most <paramref name="maxLength"/> characters; null when not given.</summary>
    protected string? ObjectText(string field, int maxLength, string setting)
    {
        if (Optional(field) is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            return Error(field, "Must be a JSON object or null");
        }

        var text = value.GetRawText();
        return text.Length <= maxLength ? text : Error(field, $"Must be at most {maxLength} characters ({setting})");
    }

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>; null when not given.</summary>
    protected int? WholeNumber(string field, int min, int max)
    {
        if (Optional(field) is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || number != Math.Floor(number))
        {
            return Error<int?>(field, "Must be a whole number or null");
        }

        return number < min || number > max ? Error<int?>(field, $"Must be from {min} to {max}") : (int)number;
    }

    /// <summary>A value of <typeparamref name="T"/> by its wire name (<see cref="WireNames"/>); null when not given.</summary>
    protected T? Choice<T>(string field)
        where T : struct, Enum =>
        Optional(field) is not { } value ? null
        : value.ValueKind == JsonValueKind.String && WireNames.TryParse<T>(value.GetString(), out var choice) ? choice
        : Error<T?>(field, $"Must be one of: {string.Join(", ", WireNames.All<T>())}");

    /// <summary><c>true</c> or <c>false</c>; null when not given.</summary>
    protected bool? Flag(string field) =>
        Optional(field) is not { } value ? null
        : value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean()
        : Error<bool?>(field, "Must be true or false");

    /// <summary>Records <paramref name="message"/> as the error of <paramref name="field"/>; returns the default.</summary>
    protected T? Error<T>(string field, string message)
    {
        _errors[field] = [message];
        return default;
    }

    protected string? Error(string field, string message) => Error<string>(field, message);

    /// <summary>Adds errors another reader found, each under <paramref name="prefix"/> and its field.</summary>
    protected void AddErrors(string prefix, IReadOnlyDictionary<string, string[]> errors)
    {
        foreach (var (field, messages) in errors)
        {
            _errors[prefix + field] = messages;
        }
    }
}
