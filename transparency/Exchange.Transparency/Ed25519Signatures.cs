using NSec.Cryptography;
using ManagedEd25519 = Org.BouncyCastle.Math.EC.Rfc8032.Ed25519;

namespace Exchange.Transparency;

/// <summary>
/// Ed25519 signature checks. The gateway, SDK and CLI use NSec (libsodium); in a browser
/// (WebAssembly, where native libsodium cannot load) the same check runs in managed code
/// (BouncyCastle's RFC 8032 implementation). Tests hold the two to the same answers.
/// </summary>
internal static class Ed25519Signatures
{
    /// <summary>The length of a raw Ed25519 public key.</summary>
    public const int PublicKeySize = 32;

    /// <summary>The length of an Ed25519 signature.</summary>
    public const int SignatureSize = 64;

    /// <summary>True when <paramref name="signature"/> is <paramref name="publicKey"/>'s signature of <paramref name="message"/>.</summary>
    public static bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature) =>
        OperatingSystem.IsBrowser() ? VerifyManaged(publicKey, message, signature) : VerifyNative(publicKey, message, signature);

    /// <summary>The libsodium check (NSec).</summary>
    internal static bool VerifyNative(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (publicKey.Length != PublicKeySize || signature.Length != SignatureSize)
        {
            return false;
        }

        var algorithm = SignatureAlgorithm.Ed25519;
        return PublicKey.TryImport(algorithm, publicKey, KeyBlobFormat.RawPublicKey, out var key) && key is not null &&
            algorithm.Verify(key, message, signature);
    }

    /// <summary>The managed check (BouncyCastle), which also runs in WebAssembly.</summary>
    internal static bool VerifyManaged(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (publicKey.Length != PublicKeySize || signature.Length != SignatureSize)
        {
            return false;
        }

        try
        {
            return ManagedEd25519.Verify(signature.ToArray(), 0, publicKey.ToArray(), 0, message.ToArray(), 0, message.Length);
        }
        catch (ArgumentException)
        {
            // A public key that is not a point on the curve.
            return false;
        }
    }
}
