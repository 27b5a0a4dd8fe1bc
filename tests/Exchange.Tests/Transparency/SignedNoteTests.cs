using Exchange.Transparency;
using NSec.Cryptography;

namespace Exchange.Tests.Transparency;

/// <summary>Signed-note and checkpoint parsing takes outside input: malformed notes are refused with a FormatException, never a crash.</summary>
public sealed class SignedNoteTests
{
    private static (NoteVerifierKey Verifier, Func<string, string> Sign) NewKey(string name = "example.org/log")
    {
        var key = Key.Create(SignatureAlgorithm.Ed25519);
        var verifier = NoteVerifierKey.FromPublicKey(name, key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
        return (verifier, text => text + "\n" + SignedNote.SignatureLine(name, verifier.KeyId,
            SignatureAlgorithm.Ed25519.Sign(key, System.Text.Encoding.UTF8.GetBytes(text))));
    }

    private static readonly string Root = Convert.ToBase64String(new byte[32]);

    [Fact]
    public void A_well_formed_checkpoint_parses_and_its_verifier_key_round_trips()
    {
        var (verifier, sign) = NewKey();
        var note = CheckpointNote.ParseVerified(sign($"example.org/log\n7\n{Root}\n"), verifier);
        Assert.Equal(("example.org/log", 7L), (note.Origin, note.Size));
        Assert.Equal(verifier.Encoded, NoteVerifierKey.Parse(verifier.Encoded).Encoded);
    }

    [Theory]
    [InlineData("")]
    [InlineData("example.org/log\n7\nROOT\n")]
    [InlineData("example.org/log\n7\nROOT\n\n")]
    [InlineData("example.org/log\n7\nROOT\n\n\n")]
    [InlineData("example.org/log\n7\nROOT\n\n— example.org/log AAAA\n")]
    [InlineData("example.org/log\n7\nROOT\n\n— example.org/log not base64!\n")]
    [InlineData("example.org/log\n7\nROOT\n\nexample.org/log QUFBQUFB\n")]
    public void Malformed_notes_are_format_errors(string note)
    {
        var (verifier, _) = NewKey();
        Assert.Throws<FormatException>(() => CheckpointNote.ParseVerified(note.Replace("ROOT", Root, StringComparison.Ordinal), verifier));
    }

    [Theory]
    [InlineData("example.org/log\n07\nROOT\n")]
    [InlineData("example.org/log\n-7\nROOT\n")]
    [InlineData("example.org/log\n 7\nROOT\n")]
    [InlineData("example.org/log\n7\nROOT \n")]
    [InlineData("example.org/log\n7\nAAAA\n")]
    [InlineData("example.org/log\n7\n")]
    [InlineData("example.org/log\n7\nRO\tOT\n")]
    public void Signed_but_malformed_checkpoint_bodies_are_format_errors(string body)
    {
        var (verifier, sign) = NewKey();
        Assert.Throws<FormatException>(() => CheckpointNote.ParseVerified(sign(body.Replace("ROOT", Root, StringComparison.Ordinal)), verifier));
    }

    [Fact]
    public void A_signature_by_another_key_with_the_same_name_or_a_changed_body_is_refused()
    {
        var (verifier, sign) = NewKey();
        var (_, impostor) = NewKey();
        Assert.Throws<FormatException>(() => CheckpointNote.ParseVerified(impostor($"example.org/log\n7\n{Root}\n"), verifier));
        var genuine = sign($"example.org/log\n7\n{Root}\n");
        Assert.Throws<FormatException>(() => CheckpointNote.ParseVerified(genuine.Replace("\n7\n", "\n8\n", StringComparison.Ordinal), verifier));
    }

    [Theory]
    [InlineData("")]
    [InlineData("name")]
    [InlineData("name+1234+AQ==")]
    [InlineData("name+zzzzzzzz+AQ==")]
    [InlineData("na me+00000000+AQ==")]
    public void Malformed_verifier_keys_are_format_errors(string text) => Assert.Throws<FormatException>(() => NoteVerifierKey.Parse(text));

    [Fact]
    public void A_verifier_key_whose_id_does_not_match_is_refused()
    {
        var (verifier, _) = NewKey();
        var parts = verifier.Encoded.Split('+', 3);
        Assert.Throws<FormatException>(() => NoteVerifierKey.Parse($"{parts[0]}+00000000+{parts[2]}"));
    }

    [Fact]
    public void Random_notes_never_crash_the_parser()
    {
        var (verifier, _) = NewKey();
        var random = new Random(7);
        const string alphabet = "ab/+=\n— 0123456789AQ";
        for (var i = 0; i < 3000; i++)
        {
            var note = new string(Enumerable.Range(0, random.Next(0, 60)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
            try
            {
                CheckpointNote.ParseVerified(note, verifier);
            }
            catch (FormatException)
            {
            }
        }
    }
}
