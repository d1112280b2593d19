using Microsoft.Extensions.Options;

namespace Praison.Orleans.Grains.Execution;

/// <summary>Fails start-up with every problem of the <c>Jobs</c> options named.</summary>
internal sealed class JobExecutionOptionsValidator : IValidateOptions<JobExecutionOptions>
{
    public ValidateOptionsResult Validate(string? name, JobExecutionOptions options)
    {
        var problems = options.Problems().ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
