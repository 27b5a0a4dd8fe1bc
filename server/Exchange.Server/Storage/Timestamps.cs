using Google.Protobuf.WellKnownTypes;

namespace Exchange.Server.Storage;

/// <summary>Times are stored as microseconds since the Unix epoch (UTC).</summary>
internal static class Timestamps
{
    public static long ToMicros(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    public static long ToMicros(Timestamp time) => ToMicros(time.ToDateTimeOffset());

    public static Timestamp FromMicros(long micros) =>
        Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch.AddTicks(micros * 10));
}
