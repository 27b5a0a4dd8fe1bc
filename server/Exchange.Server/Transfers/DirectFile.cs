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

    public static SafeFileHandle CreateNew(string path, out bool direct)
    {
        if (OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64)
        {
            var fd = Open(path, OWronly | OCreat | OExcl | ODirect, Convert.ToUInt32("600", 8));
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
#pragma warning restore SYSLIB1054
}
