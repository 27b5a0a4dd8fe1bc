using System.Text;
using Exchange.Transparency;
using Exchange.V1;
using NSec.Cryptography;

namespace Exchange.Tests.Infrastructure;

/// <summary>Signs checkpoint notes the way a gateway does, with any Ed25519 key: for forged and re-signed checkpoints.</summary>
internal static class CheckpointForgery
{
    /// <summary>The development audit signing key (certs-dev), which the in-process gateways sign with.</summary>
    public static Key DevLogKey() =>
        Key.Import(SignatureAlgorithm.Ed25519, File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "certs-dev", "audit-signing.key")),
            KeyBlobFormat.PkixPrivateKeyText);

    /// <summary>A fresh key, with its verifier key under <paramref name="name"/>.</summary>
    public static (Key Key, NoteVerifierKey Verifier) FreshKey(string name)
    {
        var key = Key.Create(SignatureAlgorithm.Ed25519);
        return (key, Verifier(key, name));
    }

    public static NoteVerifierKey Verifier(Key key, string name) =>
        NoteVerifierKey.FromPublicKey(name, key.PublicKey.Export(KeyBlobFormat.RawPublicKey));

    /// <summary>The signed note of a checkpoint body, signed by <paramref name="key"/> as <paramref name="keyName"/>.</summary>
    public static string Sign(CheckpointNote body, Key key, string keyName)
    {
        var text = body.Body();
        var signature = SignatureAlgorithm.Ed25519.Sign(key, Encoding.UTF8.GetBytes(text));
        return text + "\n" + SignedNote.SignatureLine(keyName, Verifier(key, keyName).KeyId, signature);
    }

    /// <summary>Replaces <paramref name="checkpoint"/>'s signature (and the key it names) with one by <paramref name="key"/>, same origin, size, root and log id.</summary>
    public static void Resign(Checkpoint checkpoint, Key key)
    {
        var body = new CheckpointNote(checkpoint.Origin, checkpoint.Size, checkpoint.RootHash.ToByteArray(), checkpoint.LogId);
        checkpoint.Note = Sign(body, key, checkpoint.Origin);
        checkpoint.VerifierKey = Verifier(key, checkpoint.Origin).Encoded;
    }

    /// <summary>
    /// Relabels <paramref name="checkpoint"/> as a checkpoint of the log <paramref name="logId"/>, signed by
    /// the development key the test gateways share: what a gateway holding the key could show to pass
    /// another history off as a log the client already trusts.
    /// </summary>
    public static void Relabel(Checkpoint checkpoint, string logId)
    {
        using var key = DevLogKey();
        checkpoint.LogId = logId;
        checkpoint.Note = Sign(new CheckpointNote(checkpoint.Origin, checkpoint.Size, checkpoint.RootHash.ToByteArray(), logId), key, checkpoint.Origin);
    }

    /// <summary>
    /// Moves <paramref name="checkpoint"/> to the log <paramref name="origin"/>, signed by the development key
    /// under <paramref name="keyName"/> (the name the client trusts): a checkpoint of another log, signed by the trusted key.
    /// </summary>
    public static void Reorigin(Checkpoint checkpoint, string origin, string keyName)
    {
        using var key = DevLogKey();
        checkpoint.Origin = origin;
        checkpoint.Note = Sign(new CheckpointNote(origin, checkpoint.Size, checkpoint.RootHash.ToByteArray()), key, keyName);
    }
}
