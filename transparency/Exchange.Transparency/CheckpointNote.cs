using System.Globalization;

namespace Exchange.Transparency;

/// <summary>The body of a C2SP tlog-checkpoint: origin, tree size and root hash, and the log's id.</summary>
/// <param name="Origin">The log's origin line.</param>
/// <param name="Size">The number of leaves.</param>
/// <param name="RootHash">The RFC 6962 root of those leaves.</param>
/// <param name="LogId">
/// The id the gateway generated once for this log (32 lowercase hex digits), signed as the extension
/// line <c>log-id &lt;hex&gt;</c>; empty for a checkpoint without one (signed before logs had ids).
/// </param>
public sealed record CheckpointNote(string Origin, long Size, byte[] RootHash, string LogId = "")
{
    /// <summary>The extension line that names the log: <c>log-id</c>, a space and the id.</summary>
    internal const string LogIdPrefix = "log-id ";

    /// <summary>The checkpoint text: <c>origin\nsize\nbase64(root)\n</c>, then <c>log-id &lt;hex&gt;\n</c> when the log has an id.</summary>
    public string Body() => string.Create(CultureInfo.InvariantCulture,
        $"{Origin}\n{Size}\n{Convert.ToBase64String(RootHash)}\n{(LogId.Length > 0 ? $"{LogIdPrefix}{LogId}\n" : "")}");

    /// <summary>True for a well-formed log id: 32 lowercase hex digits.</summary>
    public static bool IsLogId(string text) =>
        text is { Length: 32 } && text.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

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

        return ParseText(signed.Text);
    }

    /// <summary>
    /// Parses a signed checkpoint note WITHOUT checking any signature: only to find out which log a
    /// note claims to be of (and so which trusted key to check it with). Never trust its contents.
    /// </summary>
    public static CheckpointNote ParseUnverified(string note) => ParseText(SignedNote.Parse(note).Text);

    private static CheckpointNote ParseText(string text)
    {
        var lines = text.Split('\n');
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

        // Extension lines are opaque to other verifiers; this one reads `log-id <hex>`, once at most.
        var logId = "";
        foreach (var line in lines[3..^1])
        {
            if (line.Length == 0)
            {
                throw new FormatException("A checkpoint's extension lines are not empty.");
            }

            if (line.StartsWith(LogIdPrefix, StringComparison.Ordinal))
            {
                var id = line[LogIdPrefix.Length..];
                if (logId.Length > 0 || !IsLogId(id))
                {
                    throw new FormatException("A checkpoint names its log once, as 'log-id' and 32 lowercase hex digits.");
                }

                logId = id;
            }
        }

        return new CheckpointNote(lines[0], size, root, logId);
    }
}
