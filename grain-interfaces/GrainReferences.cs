namespace Praison.Orleans.GrainInterfaces;

/// <summary>
/// References to string-keyed grains, made without the reflection Orleans' <c>GetGrain</c> repeats on
/// every call (it resolves the interface's grain type anew each time, which was 3% of what a submit
/// allocated). The grain type and interface type are resolved once per interface, from a first reference.
/// </summary>
public static class GrainReferences
{
    /// <summary>The grain of interface <typeparamref name="T"/> with key <paramref name="key"/>, as <c>GetGrain&lt;T&gt;(key)</c> gives it.</summary>
    public static T ByKey<T>(this IGrainFactory grains, string key) where T : IGrainWithStringKey
    {
        var types = TypesOf<T>.Resolve(grains);
        return (T)grains.GetGrain(GrainId.Create(types.Grain, key), types.Interface);
    }

    private sealed record Types(GrainType Grain, GrainInterfaceType Interface);

    private static class TypesOf<T> where T : IGrainWithStringKey
    {
        private static Types? s_types;

        public static Types Resolve(IGrainFactory grains)
        {
            if (s_types is { } types)
            {
                return types;
            }

            var prototype = (GrainReference)(object)grains.GetGrain<T>("prototype");
            return s_types = new Types(prototype.GrainId.Type, prototype.InterfaceType);
        }
    }
}
