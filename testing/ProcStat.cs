using System.Globalization;

namespace Praison.Orleans.Testing;

/// <summary>What Linux's <c>/proc/{pid}/stat</c> says of a process: its parent and the CPU time it has used.</summary>
public static class ProcStat
{
    /// <summary>The parent's id and the user plus system CPU time of process <paramref name="pid"/> so far; null once it has ended.</summary>
    public static (int ParentId, TimeSpan Cpu)? Read(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null; // ended meanwhile
        }

        // After the command name (which may hold spaces, so split after its closing parenthesis): state,
        // ppid, …; utime is the 12th field, stime the 13th.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (int.Parse(fields[1], CultureInfo.InvariantCulture), TimeSpan.FromSeconds(ticks / 100.0)); // USER_HZ is 100 on Linux
    }

    /// <summary>The CPU time used so far by process <paramref name="pid"/> and its children still running.</summary>
    public static TimeSpan OfProcessAndChildren(int pid)
    {
        var total = TimeSpan.Zero;
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(folder), out var id) && Read(id) is var (parent, cpu) && (id == pid || parent == pid))
            {
                total += cpu;
            }
        }

        return total;
    }
}
