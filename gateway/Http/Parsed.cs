using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Praison.Orleans.Gateway.Http;

/// <summary>What a request said (<typeparamref name="T"/>), or the problem that refuses it: one or the other.</summary>
internal sealed class Parsed<T>
    where T : class
{
    private readonly T? _value;
    private readonly ProblemHttpResult? _problem;

    private Parsed(T? value, ProblemHttpResult? problem) => (_value, _problem) = (value, problem);

    public static implicit operator Parsed<T>(T value) => new(value, null);

    public static implicit operator Parsed<T>(ProblemHttpResult problem) => new(null, problem);

    /// <summary>The value, or (false) the problem.</summary>
    public bool TryGet([NotNullWhen(true)] out T? value, [NotNullWhen(false)] out ProblemHttpResult? problem)
    {
        if (_value is not null)
        {
            (value, problem) = (_value, null);
            return true;
        }

        (value, problem) = (null, _problem ?? throw new UnreachableException("Parsed holds a value or a problem."));
        return false;
    }
}
