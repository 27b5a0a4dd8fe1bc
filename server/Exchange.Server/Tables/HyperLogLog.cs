using System.Numerics;
using System.Runtime.CompilerServices;

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

    // The distinct hashes while there are few: open addressing on the hash's low bits (the registers
    // use its high ones), kept at most half full; zero marks a free slot, so hash zero is a flag of its own.
    // A HashSet cost a tenth of a CSV's profiling, every value of a column with few distinct ones going through it.
    private ulong[]? _exact = new ulong[64];
    private int _exactCount;
    private bool _exactZero;

    // Inlined: called for every value, and nearly always done at its first test.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(ulong hash)
    {
        var exact = _exact;
        if (exact is not null)
        {
            // A hash in its first slot was seen before: most values of a column with few distinct ones.
            // The registers are made from the exact hashes if they ever overflow: they depend only on
            // which hashes were seen, not how often or in what order.
            if (hash == 0 || exact[(int)hash & (exact.Length - 1)] != hash)
            {
                AddExact(hash);
            }

            return;
        }

        Register(hash);
    }

    private void Register(ulong hash)
    {
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
            return _exactCount;
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

    private void AddExact(ulong hash)
    {
        if (hash == 0)
        {
            if (_exactZero)
            {
                return;
            }

            _exactZero = true;
        }
        else if (!Insert(_exact!, hash))
        {
            return;
        }

        if (++_exactCount > exactUpTo)
        {
            foreach (var kept in _exact!)
            {
                if (kept != 0)
                {
                    Register(kept);
                }
            }

            if (_exactZero)
            {
                Register(0);
            }

            _exact = null;
        }
        else if (_exactCount * 2 > _exact!.Length)
        {
            var larger = new ulong[_exact.Length * 2];
            foreach (var kept in _exact)
            {
                if (kept != 0)
                {
                    Insert(larger, kept);
                }
            }

            _exact = larger;
        }
    }

    /// <summary>Adds a non-zero hash; false when it was there.</summary>
    private static bool Insert(ulong[] table, ulong hash)
    {
        var mask = table.Length - 1;
        for (var slot = (int)hash & mask; ; slot = (slot + 1) & mask)
        {
            if (table[slot] == hash)
            {
                return false;
            }

            if (table[slot] == 0)
            {
                table[slot] = hash;
                return true;
            }
        }
    }
}
