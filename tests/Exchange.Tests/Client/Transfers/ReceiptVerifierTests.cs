using System.Security.Cryptography;
using Exchange.Client;
using Exchange.Client.Transfers;
using Exchange.Tests.Access;
using Exchange.Tests.Audit;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.Transparency;
using Exchange.V1;
using Google.Protobuf;
using NSec.Cryptography;

namespace Exchange.Tests.Client.Transfers;

/// <summary>
/// <see cref="ReceiptVerifier"/> on real receipts from an in-process gateway, and on copies with
/// one thing changed: each names the check that failed.
/// </summary>
public sealed class ReceiptVerifierTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
{
    /// <summary>Two whole downloads under two grants of one consumer: what the client saw, and the receipts.</summary>
    private async Task<((ExpectedTransfer Expected, TransferReceipt Receipt) First, (ExpectedTransfer Expected, TransferReceipt Receipt) Second)> TwoAsync()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var initech = Gateway.As(Participant.Initech);
        var downloads = new List<(ExpectedTransfer, TransferReceipt)>();
        for (var i = 0; i < 2; i++)
        {
            var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
            await acme.UploadAsync(dataset.Name, new MemoryStream(RandomNumberGenerator.GetBytes(3000 + i)));
            var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset));
            var (header, bytes, trailer) = await initech.DownloadAllAsync(grant.Name);
            downloads.Add((AccessFixture.Expected(grant.Name, header, bytes), trailer.Receipt));
        }

        return (downloads[0], downloads[1]);
    }

    private ReceiptVerification Verify(TransferReceipt receipt, ExpectedTransfer expected) => ReceiptVerifier.Verify(receipt, expected, Gateway.LogKey());

    [Fact]
    public async Task A_genuine_receipt_verifies_against_the_log_key()
    {
        var (first, _) = await TwoAsync();

        var verified = Verify(first.Receipt, first.Expected);

        Assert.True(verified.Succeeded, verified.Message);
        Assert.Equal(VerificationCheck.None, verified.FailedCheck);
        Assert.Equal((first.Receipt.Checkpoint.Origin, first.Receipt.Checkpoint.Size), (verified.Checkpoint!.Origin, verified.Checkpoint.Size));
        Assert.Contains(first.Expected.Transfer, verified.Message);
    }

    [Fact]
    public async Task A_receipt_for_another_transfer_grant_revision_byte_count_or_hash_is_refused()
    {
        var (first, second) = await TwoAsync();

        // The genuine receipt of one download, shown for another.
        Assert.Equal(VerificationCheck.Transfer, Verify(first.Receipt, second.Expected).FailedCheck);

        var e = first.Expected;
        Assert.Equal(VerificationCheck.Transfer, Verify(first.Receipt, e with { Transfer = second.Expected.Transfer }).FailedCheck);
        Assert.Equal(VerificationCheck.Grant, Verify(first.Receipt, e with { Grant = second.Expected.Grant }).FailedCheck);
        Assert.Equal(VerificationCheck.Revision, Verify(first.Receipt, e with { Revision = second.Expected.Revision }).FailedCheck);
        Assert.Equal(VerificationCheck.Size, Verify(first.Receipt, e with { SizeBytes = e.SizeBytes - 1 }).FailedCheck);
        Assert.Equal(VerificationCheck.Sha256, Verify(first.Receipt, e with { Sha256 = SHA256.HashData(e.Sha256) }).FailedCheck);

        var refused = Verify(first.Receipt, e with { Grant = "grants/other" });
        Assert.False(refused.Succeeded);
        Assert.Contains("grants/other", refused.Message);
    }

    [Fact]
    public async Task An_event_that_shows_other_fields_than_its_leaf_or_is_no_successful_completion_is_refused()
    {
        var (first, _) = await TwoAsync();

        // The decoded view claims what the client expects; the leaf, which was hashed, does not.
        var relabelled = first.Receipt.Clone();
        relabelled.Event.Resource = "transfers/other";
        Assert.Equal(VerificationCheck.Leaf, Verify(relabelled, first.Expected with { Transfer = "transfers/other" }).FailedCheck);

        var garbage = first.Receipt.Clone();
        garbage.Event.Leaf = ByteString.CopyFromUtf8("not a record");
        Assert.Equal(VerificationCheck.Leaf, Verify(garbage, first.Expected).FailedCheck);

        foreach (var change in new Action<AuditRecord>[] { r => r.Outcome = AuditOutcome.Failed, r => r.Action = "transfer.start" })
        {
            var receipt = first.Receipt.Clone();
            var record = AuditRecord.Parser.ParseFrom(receipt.Event.Leaf);
            change(record);
            receipt.Event.Leaf = record.ToByteString();
            (receipt.Event.Action, receipt.Event.Outcome) = (record.Action, record.Outcome);
            Assert.Equal(VerificationCheck.Event, Verify(receipt, first.Expected).FailedCheck);
        }

        var incomplete = first.Receipt.Clone();
        incomplete.Checkpoint = null;
        Assert.Equal(VerificationCheck.Incomplete, Verify(incomplete, first.Expected).FailedCheck);
    }

    [Fact]
    public async Task A_checkpoint_not_signed_by_the_trusted_key_or_of_another_log_or_proof_is_refused()
    {
        var (first, _) = await TwoAsync();

        // Re-signed under the same origin by a fresh key: it verifies against the key it names, and
        // that is why that key is never used.
        using var fresh = Key.Create(SignatureAlgorithm.Ed25519);
        var resigned = first.Receipt.Clone();
        CheckpointForgery.Resign(resigned.Checkpoint, fresh);
        Assert.True(ReceiptVerifier.Verify(resigned, first.Expected, NoteVerifierKey.Parse(resigned.Checkpoint.VerifierKey)).Succeeded);
        var refused = Verify(resigned, first.Expected);
        Assert.Equal(VerificationCheck.Signature, refused.FailedCheck);
        Assert.Contains("not signed by the trusted key", refused.Message);

        // Signed by the trusted key, under its name, for a log of another origin.
        var elsewhere = first.Receipt.Clone();
        CheckpointForgery.Reorigin(elsewhere.Checkpoint, "elsewhere.example/audit", Gateway.LogKey().Name);
        refused = Verify(elsewhere, first.Expected);
        Assert.Equal(VerificationCheck.Origin, refused.FailedCheck);
        Assert.Contains("elsewhere.example/audit", refused.Message);

        // Unsigned copies that say something else than the note.
        var resized = first.Receipt.Clone();
        resized.Checkpoint.Size++;
        Assert.Equal(VerificationCheck.Signature, Verify(resized, first.Expected).FailedCheck);

        var unproven = first.Receipt.Clone();
        Assert.NotEmpty(unproven.InclusionProof);
        unproven.InclusionProof[0] = ByteString.CopyFrom(new byte[32]);
        Assert.Equal(VerificationCheck.Inclusion, Verify(unproven, first.Expected).FailedCheck);
    }
}
