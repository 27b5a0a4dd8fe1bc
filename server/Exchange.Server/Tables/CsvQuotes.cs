namespace Exchange.Server.Tables;

/// <summary>
/// The quoting rule the row guard and the splitter share, for a window of bytes at a time: a quote
/// anywhere opens or closes quoting, so the bytes inside quotes are the running parity of the quotes
/// before them (a prefix XOR of a bit per quote), and no quote needs a step of its own.
/// </summary>
internal static class CsvQuotes
{
    /// <summary>
    /// Which bytes of a window of up to 64 (bit i: byte i) lie inside quotes, given which are quotes and
    /// whether quoting was open before it; <paramref name="open"/> becomes whether it is open after it.
    /// </summary>
    public static ulong Inside(ulong quotes, ref bool open)
    {
        if (quotes == 0)
        {
            // Most windows of most CSVs: no quote, so all of it or none of it is quoted.
            return open ? ulong.MaxValue : 0;
        }

        quotes ^= quotes << 1;
        quotes ^= quotes << 2;
        quotes ^= quotes << 4;
        quotes ^= quotes << 8;
        quotes ^= quotes << 16;
        quotes ^= quotes << 32;
        var inside = open ? ~quotes : quotes;
        // Past a shorter window's last byte there is no quote, so the top bit carries its parity.
        open = (long)inside < 0;
        return inside;
    }
}
