using System.Numerics;

namespace Exchange.Server.Compute;

/// <summary>Exactly uniform integers below a bound from random bytes, by rejection.</summary>
internal static class Uniform
{
    public static BigInteger Below(BigInteger bound, Action<Span<byte>> fill)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(bound, BigInteger.Zero);
        if (bound.IsOne)
        {
            return BigInteger.Zero;
        }

        var bits = (int)(bound - 1).GetBitLength();
        var bytes = new byte[(bits + 7) / 8];
        var topMask = (byte)(0xFF >> ((bytes.Length * 8) - bits));
        while (true)
        {
            fill(bytes);
            bytes[^1] &= topMask;
            var value = new BigInteger(bytes, isUnsigned: true, isBigEndian: false);
            // At least half of the candidates are below the bound, so this ends after two tries on average.
            if (value < bound)
            {
                return value;
            }
        }
    }
}
