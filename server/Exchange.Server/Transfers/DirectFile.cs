using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Exchange.Server.Transfers;

/// <summary>
/// Opens a new file for unbuffered writes (O_DIRECT on Linux): revision bytes go from our buffer
/// to the device without a copy through the page cache, which on a busy machine costs as much
/// CPU as the network transfer itself. Where the file system refuses O_DIRECT, an ordinary
/// handle is returned and the out parameter says so.
/// </summary>
internal static class DirectFile
{
    /// <summary>Writes to a direct file must start, and be sized, on this boundary.</summary>
    public const int Alignment = 4096;

    private const int OWronly = 0x1;
    private const int OCreat = 0x40;
    private const int OExcl = 0x80;
    private const int ODirect = 0x4000;
    private const int ORdonly = 0x0;
    private const int ODirectory = 0x10000;
    private const int OCloexec = 0x80000;

    /// <summary>Makes a rename or new file in <paramref name="directory"/> durable (Linux; elsewhere a no-op).</summary>
    public static void FlushDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            return;
        }

        var fd = Open(directory, ORdonly | ODirectory | OCloexec, 0);
        if (fd < 0)
        {
            throw new IOException($"Cannot open directory '{directory}' to flush it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"Flushing directory '{directory}' failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    public static SafeFileHandle CreateNew(string path, out bool direct)
    {
        // The O_DIRECT value differs between architectures; x64 is the one checked here.
        if (OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64)
        {
            var fd = Open(path, OWronly | OCreat | OExcl | ODirect | OCloexec, Convert.ToUInt32("600", 8));
            if (fd >= 0)
            {
                direct = true;
                return new SafeFileHandle((IntPtr)fd, ownsHandle: true);
            }

            if (File.Exists(path))
            {
                File.Delete(path);
            }
        }

        direct = false;
        return File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.Asynchronous);
    }

    // DllImport rather than LibraryImport: the generated marshalling would need unsafe code in the project.
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
#pragma warning disable SYSLIB1054
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mode);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
#pragma warning restore SYSLIB1054
}
