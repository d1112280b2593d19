using Microsoft.Extensions.Logging;

namespace Praison.Orleans.Grains.Jobs;

/// <summary>
/// A grain's write of its persistent state that fails leaves as <see cref="JobStorageException"/>
/// (which every silo and gateway can carry, answered 503) after the state is read back, so the next
/// call starts from what storage holds; when even the read fails, the activation goes away.
/// </summary>
public static partial class StateWrites
{
    public static async Task StoreAsync<T>(this IPersistentState<T> state, Func<Task> write, IGrainContext grain, ILogger logger, string what)
    {
        try
        {
            await write();
        }
        catch (Exception exception)
        {
            LogWriteFailed(logger, exception, what);
            try
            {
                await state.ReadStateAsync();
            }
            catch (Exception readFailure)
            {
                LogWriteFailed(logger, readFailure, what);
                grain.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "its state could not be read back"));
            }

            throw new JobStorageException($"Storage did not take a change of {what}; retry.");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storage of {What} failed")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string what);
}
