namespace Praison.Orleans.Grains.Batches;

/// <summary>Runs an async action over items with a bound on how many are in flight, on the caller's scheduler (a grain's).</summary>
public static class Bounded
{
    public static async Task ForEachAsync<T>(IEnumerable<T> items, int inFlight, Func<T, Task> action)
    {
        var running = new List<Task>(inFlight);
        foreach (var item in items)
        {
            if (running.Count == inFlight)
            {
                var done = await Task.WhenAny(running);
                running.Remove(done);
                await done; // a failure ends the loop, as it would a sequential one
            }

            running.Add(action(item));
        }

        await Task.WhenAll(running);
    }
}
