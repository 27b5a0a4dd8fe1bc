using System.Numerics;

namespace Exchange.Server.Compute;

/// <summary>Uniform random integers for the noise samplers: a secure generator in the gateway, a seeded one in tests.</summary>
internal interface INoiseSource
{
    /// <summary>A uniform integer in [0, <paramref name="bound"/>); <paramref name="bound"/> is positive.</summary>
    BigInteger NextBelow(BigInteger bound);
}
