namespace Exchange.Server.Tables;

/// <summary>
/// The most frequent values of a stream in fixed memory (Misra–Gries with <see cref="Counters"/>
/// counters): every value occurring more than n / (Counters + 1) times is kept, and each count
/// falls short of the true one by at most n / (Counters + 1).
/// </summary>
internal sealed class FrequentValues
{
    public const int Counters = 64;

    // Longer values are not counted at all: a top value is for reading.
    private const int LongestKept = 256;

    private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public FrequentValues() => _lookup = _counts.GetAlternateLookup<ReadOnlySpan<char>>();

    public void Add(ReadOnlySpan<char> value)
    {
        if (value.Length > LongestKept)
        {
            return;
        }

        if (_lookup.TryGetValue(value, out var count))
        {
            _lookup[value] = count + 1;
        }
        else if (_counts.Count < Counters)
        {
            _counts.Add(value.ToString(), 1);
        }
        else
        {
            // No room: this value and one of each kept value cancel out.
            foreach (var key in _counts.Keys.ToList())
            {
                if (--_counts[key] == 0)
                {
                    _counts.Remove(key);
                }
            }
        }
    }

    /// <summary>Up to <paramref name="count"/> values, most frequent first (ties by ordinal order), with their lower-bound counts.</summary>
    public IEnumerable<(string Value, long Count)> Top(int count) =>
        _counts.OrderByDescending(pair => pair.Value).ThenBy(pair => pair.Key, StringComparer.Ordinal).Take(count)
            .Select(pair => (pair.Key, pair.Value));
}
