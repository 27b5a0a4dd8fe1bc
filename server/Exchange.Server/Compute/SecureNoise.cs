using System.Numerics;
using System.Security.Cryptography;

namespace Exchange.Server.Compute;

/// <summary>
/// The gateway's noise source: the operating system's cryptographic generator, with rejection
/// sampling so every value below the bound is exactly equally likely (a modulo would favour some).
/// </summary>
internal sealed class SecureNoise : INoiseSource
{
    public static readonly SecureNoise Instance = new();

    public BigInteger NextBelow(BigInteger bound) => Uniform.Below(bound, RandomNumberGenerator.Fill);
}
