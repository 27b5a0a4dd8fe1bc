using Microsoft.Data.Sqlite;
using Npgsql;

namespace Exchange.Server.Storage;

/// <summary>
/// Recognises the errors of a disk (or quota) that is full, from whichever store hit it: a blob
/// file write, SQLite or PostgreSQL. Such a call is refused as RESOURCE_EXHAUSTED, not as an
/// internal error, because the operator can fix it and the caller can retry.
/// </summary>
internal static class StorageFull
{
    private const int SqliteFull = 13;
    private const string PostgresDiskFull = "53100";

    // On Unix .NET reports the errno as an IOException's HResult; on Windows the Win32 error as an HRESULT.
    private const int ENOSPC = 28;
    private const int EDQUOTLinux = 122;
    private const int EDQUOTMac = 69;
    private const int DiskFull = unchecked((int)0x80070070);
    private const int HandleDiskFull = unchecked((int)0x80070027);
    private const int QuotaExceeded = unchecked((int)0x8007050F);

    public static bool Is(Exception exception) => exception switch
    {
        SqliteException sqlite => sqlite.SqliteErrorCode == SqliteFull,
        PostgresException postgres => postgres.SqlState == PostgresDiskFull,
        IOException io => io.HResult switch
        {
            ENOSPC or DiskFull or HandleDiskFull or QuotaExceeded => true,
            EDQUOTLinux => OperatingSystem.IsLinux(),
            EDQUOTMac => OperatingSystem.IsMacOS(),
            _ => false,
        },
        _ => false,
    };
}
