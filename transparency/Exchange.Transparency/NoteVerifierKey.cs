using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Exchange.Transparency;

/// <summary>
/// An Ed25519 signed-note verifier key (C2SP signed-note): <c>name+hex8keyid+base64(0x01||pubkey)</c>.
/// </summary>
public sealed class NoteVerifierKey
{
    private const byte Ed25519Type = 0x01;

    private NoteVerifierKey(string name, uint keyId, byte[] publicKey, string encoded)
    {
        Name = name;
        KeyId = keyId;
        PublicKey = publicKey;
        Encoded = encoded;
    }

    /// <summary>The key name, which signature lines repeat.</summary>
    public string Name { get; }

    /// <summary>The first four bytes of SHA-256(name || 0x0A || 0x01 || public key), big-endian.</summary>
    public uint KeyId { get; }

    /// <summary>The raw 32-byte Ed25519 public key.</summary>
    internal byte[] PublicKey { get; }

    /// <summary>The key in its text form.</summary>
    public string Encoded { get; }

    /// <inheritdoc />
    public override string ToString() => Encoded;

    /// <summary>The key id of an Ed25519 key with this name.</summary>
    internal static uint ComputeKeyId(string name, ReadOnlySpan<byte> publicKey)
    {
        ArgumentNullException.ThrowIfNull(name);
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var input = new byte[nameBytes.Length + 2 + publicKey.Length];
        nameBytes.CopyTo(input, 0);
        input[nameBytes.Length] = 0x0A;
        input[nameBytes.Length + 1] = Ed25519Type;
        publicKey.CopyTo(input.AsSpan(nameBytes.Length + 2));
        return BinaryPrimitives.ReadUInt32BigEndian(SHA256.HashData(input));
    }

    /// <summary>Builds the verifier key for an Ed25519 public key.</summary>
    public static NoteVerifierKey FromPublicKey(string name, byte[] publicKey)
    {
        ValidateName(name);
        ArgumentNullException.ThrowIfNull(publicKey);
        if (publicKey.Length != 32)
        {
            throw new FormatException("An Ed25519 public key is 32 bytes.");
        }

        var keyId = ComputeKeyId(name, publicKey);
        var encoded = string.Create(CultureInfo.InvariantCulture,
            $"{name}+{keyId:x8}+{Convert.ToBase64String([Ed25519Type, .. publicKey])}");
        return new NoteVerifierKey(name, keyId, publicKey, encoded);
    }

    /// <summary>Parses <c>name+hex8keyid+base64(0x01||pubkey)</c>, checking that the key id matches.</summary>
    public static NoteVerifierKey Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Trim().Split('+', 3);
        if (parts.Length != 3 || parts[1].Length != 8 ||
            !uint.TryParse(parts[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var keyId))
        {
            throw new FormatException("A verifier key looks like 'name+0123abcd+base64key'.");
        }

        byte[] key;
        try
        {
            key = Convert.FromBase64String(parts[2]);
        }
        catch (FormatException)
        {
            throw new FormatException("The verifier key's last part is not base64.");
        }

        if (key.Length != 33 || key[0] != Ed25519Type)
        {
            throw new FormatException("Only Ed25519 verifier keys (type 0x01, 32-byte key) are supported.");
        }

        var parsed = FromPublicKey(parts[0], key[1..]);
        if (parsed.KeyId != keyId)
        {
            throw new FormatException("The verifier key's id does not match its name and public key.");
        }

        return parsed;
    }

    /// <summary>True when <paramref name="signature"/> is this key's Ed25519 signature of <paramref name="message"/>.</summary>
    internal bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature) =>
        Ed25519Signatures.Verify(PublicKey, message, signature);

    internal static void ValidateName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Any(c => char.IsWhiteSpace(c) || c == '+' || char.IsControl(c)))
        {
            throw new FormatException("A key name is non-empty text without spaces or '+'.");
        }
    }
}
