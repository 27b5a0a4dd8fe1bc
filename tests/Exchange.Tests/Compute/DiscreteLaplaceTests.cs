using System.Numerics;
using Exchange.Server.Compute;

namespace Exchange.Tests.Compute;

/// <summary>
/// The noise: exact discrete Laplace samples, and what they let an attacker learn. Seeded, so each
/// run draws the same samples and a failure repeats.
/// </summary>
public sealed class DiscreteLaplaceTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(10, 1)]
    [InlineData(7, 3)]
    public void Samples_follow_the_discrete_laplace_distribution(int numerator, int denominator)
    {
        var random = new SeededNoise(numerator * 31 + denominator);
        const int N = 40_000;
        var counts = new Dictionary<BigInteger, int>();
        for (var i = 0; i < N; i++)
        {
            var x = DiscreteLaplace.Sample(random, numerator, denominator);
            counts[x] = counts.GetValueOrDefault(x) + 1;
        }

        // P(x) = (1 - q) / (1 + q) · q^|x| with q = exp(-denominator / numerator).
        var q = Math.Exp(-(double)denominator / numerator);
        for (var x = -2; x <= 2; x++)
        {
            var expected = (1 - q) / (1 + q) * Math.Pow(q, Math.Abs(x));
            var observed = counts.GetValueOrDefault(x) / (double)N;
            // Five standard errors of a binomial proportion.
            Assert.InRange(observed, expected - (5 * Math.Sqrt(expected * (1 - expected) / N)), expected + (5 * Math.Sqrt(expected * (1 - expected) / N)));
        }
    }

    [Fact]
    public void Bernoulli_of_exp_minus_gamma_is_exact_for_gamma_above_one()
    {
        var random = new SeededNoise(7);
        const int N = 40_000;
        var hits = Enumerable.Range(0, N).Count(_ => DiscreteLaplace.BernoulliExp(random, 5, 2));
        var expected = Math.Exp(-2.5);
        Assert.InRange(hits / (double)N, expected - (5 * Math.Sqrt(expected / N)), expected + (5 * Math.Sqrt(expected / N)));
    }

    /// <summary>
    /// Differencing under DP: two counts that differ by one person's row, each released with the
    /// noise a query at epsilon gets. The best an attacker can do is guess which count it saw from
    /// the released value; over many seeds, no guess is right more often than e^ε / (1 + e^ε), and
    /// no released value is more than e^ε times likelier under one count than under the other.
    /// </summary>
    [Theory]
    [InlineData(500)]
    [InlineData(1000)]
    public void Two_counts_that_differ_by_one_person_are_no_more_distinguishable_than_epsilon_allows(long epsilonMillis)
    {
        const int Seeds = 20_000;
        var epsilon = epsilonMillis / 1000.0;
        var without = new Dictionary<BigInteger, int>();
        var with = new Dictionary<BigInteger, int>();
        for (var seed = 0; seed < Seeds; seed++)
        {
            // Scale Δ / ε = 1000 / millis with Δ = 1, as PrivateAnswer draws it for one measure.
            var a = 100 + DiscreteLaplace.Sample(new SeededNoise(seed), 1000, epsilonMillis);
            var b = 101 + DiscreteLaplace.Sample(new SeededNoise(seed + Seeds), 1000, epsilonMillis);
            without[a] = without.GetValueOrDefault(a) + 1;
            with[b] = with.GetValueOrDefault(b) + 1;
        }

        // The attacker's best rule guesses the count under which the released value is likelier.
        var right = without.Keys.Union(with.Keys).Sum(v => Math.Max(without.GetValueOrDefault(v), with.GetValueOrDefault(v)));
        var accuracy = right / (2.0 * Seeds);
        var bound = Math.Exp(epsilon) / (1 + Math.Exp(epsilon));
        Assert.True(accuracy <= bound + 0.01, $"accuracy {accuracy:F4} above {bound:F4}");
        // And noise that hid nothing would be caught: the attacker does better than a coin.
        Assert.True(accuracy > 0.55, $"accuracy {accuracy:F4}");

        // Where both worlds released a value often enough to measure, the ratio stays within e^ε (with sampling slack).
        foreach (var value in without.Keys.Intersect(with.Keys).Where(v => without[v] >= 500 && with[v] >= 500))
        {
            var ratio = without[value] / (double)with[value];
            Assert.InRange(ratio, Math.Exp(-epsilon) * 0.8, Math.Exp(epsilon) * 1.25);
        }
    }
}
