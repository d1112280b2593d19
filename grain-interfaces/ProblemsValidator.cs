using Microsoft.Extensions.Options;

namespace Praison.Orleans.GrainInterfaces;

/// <summary>Validates options at start-up by their own list of problems, failing with every one named.</summary>
public sealed class ProblemsValidator<TOptions>(Func<TOptions, IEnumerable<string>> problems) : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var found = problems(options).ToList();
        return found.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(found);
    }
}
