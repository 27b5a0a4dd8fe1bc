using System.Numerics;

namespace Exchange.Server.Compute;

/// <summary>
/// Exact sampling of the discrete Laplace distribution, P(x) ∝ exp(-|x| / scale) over the
/// integers, with a rational scale and integer arithmetic only (Canonne, Kamath and Steinke, "The
/// Discrete Gaussian for Differential Privacy", 2020, algorithms 1 and 2). No floating point
/// touches the noise, so no rounding artefact can reveal the value it hides.
/// </summary>
internal static class DiscreteLaplace
{
    /// <summary>A sample with scale <paramref name="numerator"/> / <paramref name="denominator"/> (both positive).</summary>
    public static BigInteger Sample(INoiseSource random, BigInteger numerator, BigInteger denominator)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(numerator, BigInteger.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(denominator, BigInteger.Zero);
        var t = numerator;
        var s = denominator;
        while (true)
        {
            var u = random.NextBelow(t);
            if (!BernoulliExp(random, u, t))
            {
                continue;
            }

            var v = BigInteger.Zero;
            while (BernoulliExp(random, BigInteger.One, BigInteger.One))
            {
                v++;
            }

            var y = (u + (t * v)) / s;
            var negative = random.NextBelow(2).IsOne;
            if (negative && y.IsZero)
            {
                continue;
            }

            return negative ? -y : y;
        }
    }

    /// <summary>True with probability exp(-<paramref name="numerator"/> / <paramref name="denominator"/>), exactly.</summary>
    public static bool BernoulliExp(INoiseSource random, BigInteger numerator, BigInteger denominator)
    {
        // exp(-γ) = exp(-1)^floor(γ) · exp(-(γ - floor(γ))): each factor is a γ ≤ 1 case.
        var gamma = numerator;
        while (gamma > denominator)
        {
            if (!BernoulliExpAtMostOne(random, denominator, denominator))
            {
                return false;
            }

            gamma -= denominator;
        }

        return BernoulliExpAtMostOne(random, gamma, denominator);
    }

    private static bool BernoulliExpAtMostOne(INoiseSource random, BigInteger numerator, BigInteger denominator)
    {
        // The number of successive successes of Bernoulli(γ/k), k = 1, 2, …, is odd with probability exp(-γ).
        var k = BigInteger.One;
        while (random.NextBelow(denominator * k) < numerator)
        {
            k++;
        }

        return !k.IsEven;
    }
}
