using System.Globalization;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.WebConsole.Services;

/// <summary>How values read in the console: UTC times, short enum names, terms in words.</summary>
internal static class Format
{
    public static string Time(Timestamp? time) =>
        time is null ? "" : time.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    public static string Day(Timestamp? time) =>
        time is null ? "" : time.ToDateTimeOffset().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary><c>GRANT_STATE_ACTIVE</c> (C# <c>Active</c>) → <c>active</c>.</summary>
    public static string Enum<T>(T value)
        where T : struct, System.Enum =>
        string.Concat(value.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? " " + c : c.ToString())).ToLowerInvariant();

    public static string Terms(Terms? terms)
    {
        if (terms is null)
        {
            return "as requested";
        }

        var parts = new List<string>
        {
            terms.Purposes.Count > 0 ? $"purposes: {string.Join(", ", terms.Purposes)}" : "any stated purpose",
            terms.MaxTransfers > 0 ? $"max transfers: {terms.MaxTransfers}" : "unlimited transfers",
        };
        if (terms.ExpireTime is not null)
        {
            parts.Add($"expires {Time(terms.ExpireTime)}");
        }

        if (terms.Kind == GrantKind.Compute)
        {
            parts.Add("queries only");
        }

        return string.Join("; ", parts);
    }

    public static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:0.#} KiB",
        < 1024L * 1024 * 1024 => $"{bytes / 1024.0 / 1024:0.#} MiB",
        _ => $"{bytes / 1024.0 / 1024 / 1024:0.##} GiB",
    };

    public static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    /// <summary>A status for people: the gRPC code and the gateway's message.</summary>
    public static string Error(Exception ex) => ex switch
    {
        Grpc.Core.RpcException rpc => $"{rpc.StatusCode}: {rpc.Status.Detail}",
        _ => ex.Message,
    };
}
