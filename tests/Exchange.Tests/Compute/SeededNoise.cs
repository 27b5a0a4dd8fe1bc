using System.Numerics;
using Exchange.Server.Compute;

namespace Exchange.Tests.Compute;

/// <summary>A seeded noise source for tests: System.Random's bytes through the gateway's exact rejection sampling, so a failing run repeats.</summary>
internal sealed class SeededNoise(int seed) : INoiseSource
{
    private readonly Random _random = new(seed);

    public BigInteger NextBelow(BigInteger bound) => Uniform.Below(bound, _random.NextBytes);
}
