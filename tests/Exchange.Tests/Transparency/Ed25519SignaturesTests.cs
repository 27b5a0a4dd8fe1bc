using Exchange.Transparency;
using NSec.Cryptography;

namespace Exchange.Tests.Transparency;

/// <summary>
/// The managed Ed25519 check the console runs in the browser gives the same answers as the
/// libsodium one the gateway, SDK and CLI use: on RFC 8032's vector, on fresh keys, and on every
/// kind of alteration.
/// </summary>
public sealed class Ed25519SignaturesTests
{
    [Fact]
    public void Rfc8032_test_1_verifies_in_both()
    {
        var publicKey = Convert.FromHexString("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        var signature = Convert.FromHexString("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
        Assert.True(Ed25519Signatures.VerifyNative(publicKey, [], signature));
        Assert.True(Ed25519Signatures.VerifyManaged(publicKey, [], signature));
    }

    [Fact]
    public void Both_accept_a_good_signature_and_refuse_every_alteration()
    {
        for (var round = 0; round < 20; round++)
        {
            using var key = Key.Create(SignatureAlgorithm.Ed25519);
            var publicKey = key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
            var message = System.Text.Encoding.UTF8.GetBytes($"exchange.local/audit\n{round}\n{Convert.ToBase64String(new byte[32])}\n");
            var signature = SignatureAlgorithm.Ed25519.Sign(key, message);
            Assert.True(Both(publicKey, message, signature));

            var bit = round * 7;
            Assert.False(Both(publicKey, Flip(message, bit % (message.Length * 8)), signature));
            Assert.False(Both(publicKey, message, Flip(signature, bit % 512)));
            Assert.False(Both(Flip(publicKey, bit % 256), message, signature));
            Assert.False(Both(publicKey, message, signature[..63]));
            Assert.False(Both(publicKey[..31], message, signature));
        }
    }

    private static bool Both(byte[] key, byte[] message, byte[] signature)
    {
        var native = Ed25519Signatures.VerifyNative(key, message, signature);
        Assert.Equal(native, Ed25519Signatures.VerifyManaged(key, message, signature));
        return native;
    }

    private static byte[] Flip(byte[] bytes, int bit)
    {
        var copy = bytes.ToArray();
        copy[bit / 8] ^= (byte)(1 << (bit % 8));
        return copy;
    }
}
