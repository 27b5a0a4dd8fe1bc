using System.Globalization;

namespace Exchange.Client.Audit;

/// <summary>The body of a C2SP tlog-checkpoint: origin, tree size and root hash.</summary>
/// <param name="Origin">The log's origin line.</param>
/// <param name="Size">The number of leaves.</param>
/// <param name="RootHash">The RFC 6962 root of those leaves.</param>
public sealed record CheckpointNote(string Origin, long Size, byte[] RootHash)
{
    /// <summary>The checkpoint text: <c>origin\nsize\nbase64(root)\n</c>.</summary>
    public string Body() => string.Create(CultureInfo.InvariantCulture, $"{Origin}\n{Size}\n{Convert.ToBase64String(RootHash)}\n");

    /// <summary>
    /// Parses a signed checkpoint note and checks its signature by <paramref name="key"/>;
    /// anything else is a <see cref="FormatException"/> that says what is wrong.
    /// </summary>
    public static CheckpointNote ParseVerified(string note, NoteVerifierKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var signed = SignedNote.Parse(note);
        if (!signed.IsSignedBy(key))
        {
            throw new FormatException($"The checkpoint is not signed by the trusted key {key.Name}+{key.KeyId:x8}.");
        }

        var lines = signed.Text.Split('\n');
        // origin, size, root, then optional extension lines; the text ends in a newline.
        if (lines.Length < 4 || lines[0].Length == 0)
        {
            throw new FormatException("A checkpoint has an origin, a size and a root hash line.");
        }

        if (!long.TryParse(lines[1], NumberStyles.None, CultureInfo.InvariantCulture, out var size) ||
            (lines[1].Length > 1 && lines[1][0] == '0'))
        {
            throw new FormatException("The checkpoint's size line is not a decimal number.");
        }

        var root = StrictBase64.Decode(lines[2]) ?? throw new FormatException("The checkpoint's root hash line is not base64.");
        if (root.Length != Rfc6962.HashSize)
        {
            throw new FormatException("The checkpoint's root hash is not 32 bytes.");
        }

        return new CheckpointNote(lines[0], size, root);
    }
}
