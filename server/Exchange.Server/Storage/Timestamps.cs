using Google.Protobuf.WellKnownTypes;

namespace Exchange.Server.Storage;

/// <summary>Times are stored as microseconds since the Unix epoch (UTC).</summary>
internal static class Timestamps
{
    public static long ToMicros(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    public static long ToMicros(Timestamp time) => ToMicros(time.ToDateTimeOffset());

    /// <summary>A stored time (microseconds since the epoch) as the domain holds it.</summary>
    public static DateTimeOffset ToTime(long micros) => DateTimeOffset.UnixEpoch.AddTicks(micros * 10);

    public static Timestamp FromMicros(long micros) =>
        Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch.AddTicks(micros * 10));
}
