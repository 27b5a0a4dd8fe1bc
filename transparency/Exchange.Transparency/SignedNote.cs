using System.Buffers.Binary;
using System.Text;

namespace Exchange.Transparency;

/// <summary>
/// A C2SP signed note: text, a blank line, then signature lines
/// <c>— name base64(keyid(4) || signature)</c>.
/// </summary>
public sealed class SignedNote
{
    private const string SignaturePrefix = "\u2014 ";

    private SignedNote(string text, IReadOnlyList<NoteSignature> signatures)
    {
        Text = text;
        Signatures = signatures;
    }

    /// <summary>The signed text, ending in a newline.</summary>
    internal string Text { get; }

    /// <summary>The signature lines, in order.</summary>
    internal IReadOnlyList<NoteSignature> Signatures { get; }

    /// <summary>Splits a note into its text and signatures; malformed notes are a <see cref="FormatException"/>.</summary>
    internal static SignedNote Parse(string note)
    {
        ArgumentNullException.ThrowIfNull(note);
        var split = note.LastIndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0 || split + 2 >= note.Length || !note.EndsWith('\n'))
        {
            throw new FormatException("A signed note is text, a blank line and signature lines, each ending in a newline.");
        }

        if (note.Any(c => char.IsControl(c) && c != '\n'))
        {
            throw new FormatException("A signed note holds no control characters other than newlines.");
        }

        var text = note[..(split + 1)];
        var signatures = new List<NoteSignature>();
        foreach (var line in note[(split + 2)..^1].Split('\n'))
        {
            if (!line.StartsWith(SignaturePrefix, StringComparison.Ordinal))
            {
                throw new FormatException("A signature line starts with an em dash and a space.");
            }

            var fields = line[SignaturePrefix.Length..].Split(' ');
            if (fields.Length != 2)
            {
                throw new FormatException("A signature line is '— name signature'.");
            }

            var blob = StrictBase64.Decode(fields[1]) ?? throw new FormatException("A note signature is base64.");

            if (blob.Length < 5)
            {
                throw new FormatException("A note signature holds a key id and a signature.");
            }

            signatures.Add(new NoteSignature(fields[0], BinaryPrimitives.ReadUInt32BigEndian(blob), blob[4..]));
        }

        if (signatures.Count == 0)
        {
            throw new FormatException("The note has no signature.");
        }

        return new SignedNote(text, signatures);
    }

    /// <summary>True when one of the signatures is a valid signature by <paramref name="key"/>.</summary>
    internal bool IsSignedBy(NoteVerifierKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var message = Encoding.UTF8.GetBytes(Text);
        return Signatures.Any(s => s.KeyName == key.Name && s.KeyId == key.KeyId && key.Verify(message, s.Signature));
    }

    /// <summary>Formats a signature line for <paramref name="keyName"/>.</summary>
    public static string SignatureLine(string keyName, uint keyId, ReadOnlySpan<byte> signature)
    {
        var blob = new byte[4 + signature.Length];
        BinaryPrimitives.WriteUInt32BigEndian(blob, keyId);
        signature.CopyTo(blob.AsSpan(4));
        return $"{SignaturePrefix}{keyName} {Convert.ToBase64String(blob)}\n";
    }
}

/// <summary>One signature line of a note.</summary>
/// <param name="KeyName">The signer's key name.</param>
/// <param name="KeyId">The signer's key id.</param>
/// <param name="Signature">The signature bytes.</param>
internal sealed record NoteSignature(string KeyName, uint KeyId, byte[] Signature);
