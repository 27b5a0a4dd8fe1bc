namespace Exchange.Server.Tables;

/// <summary>
/// Watches a CSV's raw bytes as they arrive for what the parser would have to hold in memory: a
/// row longer than the limit (a quoted field may span lines, so quotes are followed), and a
/// quoted field still open when the bytes end.
/// </summary>
internal struct CsvRowGuard(int maxRowBytes)
{
    private bool _quoted;
    private long _rowBytes;
    private long _row;

    public void Scan(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var next = bytes.IndexOfAny((byte)'"', (byte)'\n');
            var run = next < 0 ? bytes.Length : next + 1;
            _rowBytes += run;
            if (_rowBytes > maxRowBytes)
            {
                throw Refusal.Invalid(
                    $"Row {_row} of the CSV (the header is row 0) is longer than {maxRowBytes} bytes, the longest row accepted; nothing was stored.");
            }

            if (next >= 0)
            {
                if (bytes[next] == '"')
                {
                    // A doubled quote inside a quoted field toggles twice: the state stays right.
                    _quoted = !_quoted;
                }
                else if (!_quoted)
                {
                    _row++;
                    _rowBytes = 0;
                }
            }

            bytes = bytes[run..];
        }
    }

    public readonly void End()
    {
        if (_quoted)
        {
            throw Refusal.Invalid($"Row {_row} of the CSV (the header is row 0) opens a quoted field that is never closed; nothing was stored.");
        }
    }
}
