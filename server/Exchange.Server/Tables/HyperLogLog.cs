using System.Numerics;

namespace Exchange.Server.Tables;

/// <summary>
/// Counts distinct values in fixed memory (2^precision bytes), within about 1.04 / sqrt(2^precision)
/// of the true count (Flajolet et al., with linear counting for small counts). Fed 64-bit hashes,
/// so no large-range correction is needed. Up to <c>exactUpTo</c> distinct hashes the count is
/// exact: a small table's report should not be off by a collision.
/// </summary>
internal sealed class HyperLogLog(int precision, int exactUpTo)
{
    private readonly byte[] _registers = new byte[1 << precision];
    private HashSet<ulong>? _exact = [];

    public void Add(ulong hash)
    {
        if (_exact is not null && _exact.Add(hash) && _exact.Count > exactUpTo)
        {
            _exact = null;
        }

        var index = (int)(hash >> (64 - precision));
        // The rank of the first set bit in what is left; the guard bit caps it at 64 - precision + 1.
        var rest = (hash << precision) | (1UL << (precision - 1));
        var rank = (byte)(BitOperations.LeadingZeroCount(rest) + 1);
        if (rank > _registers[index])
        {
            _registers[index] = rank;
        }
    }

    public long Estimate()
    {
        if (_exact is not null)
        {
            return _exact.Count;
        }

        var m = (double)_registers.Length;
        double sum = 0;
        var zeros = 0;
        foreach (var register in _registers)
        {
            sum += Math.ScaleB(1, -register);
            zeros += register == 0 ? 1 : 0;
        }

        var raw = 0.7213 / (1 + 1.079 / m) * m * m / sum;
        var estimate = raw <= 2.5 * m && zeros > 0 ? m * Math.Log(m / zeros) : raw;
        return (long)Math.Round(estimate);
    }
}
