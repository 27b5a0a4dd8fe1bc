using System.Security.Cryptography;
using System.Text;
using Exchange.Client;
using Exchange.Client.Rights;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.Transparency;
using Exchange.V1;
using Google.Protobuf;

namespace Exchange.Tests.Rights;

/// <summary>
/// Certificates verify offline with the log's key alone, and fail at the check that a forger's
/// change breaks: a tampered record, event, proof or checkpoint; another key; another right's events.
/// </summary>
public sealed class RightCertificateTests(RightsGateway gateway) : SharedGatewayTests<RightsGateway>(gateway)
{
    [Fact]
    public async Task A_licence_certificate_verifies_offline_with_its_licensors_history_and_shows_holder_scope_and_validity()
    {
        var (holding, licence, key) = await LicensedAsync();
        using var initech = Gateway.As(Participant.Initech);
        var certificate = await CertificateAsync(initech, licence.Name);

        var result = RightCertificateVerifier.Verify(RightCertificateFile.FromJson(RightCertificateFile.ToJson(certificate)), key, DateTimeOffset.UtcNow);
        Assert.True(result.Succeeded, result.Message);
        Assert.Equal("initech", result.Right!.Holder);
        Assert.Equal(["research"], result.Right.Scope.Purposes);
        Assert.Equal(holding.EndTime, result.Right.EndTime);
        Assert.Equal(RightState.Active, result.StateNow);

        // The licensor's registration, objection, its dismissal and approval come before the licence, which is the licence's first event.
        var actions = certificate.Events.Select(e => AuditRecord.Parser.ParseFrom(e.Leaf).Action).ToList();
        Assert.Equal(["right.register", "right.object", "right.resolve_objection", "right.approve", "right.license"], actions);

        // Past its end, the same certificate proves an expired right.
        Assert.Equal(RightState.Expired, RightCertificateVerifier.Verify(certificate, key, holding.EndTime.ToDateTimeOffset().AddSeconds(1)).StateNow);
    }

    [Fact]
    public async Task Every_altered_byte_of_a_certificate_either_breaks_it_or_changes_nothing()
    {
        var (holding, _, key) = await LicensedAsync();
        using var acme = Gateway.As(Participant.Acme);
        var original = await CertificateAsync(acme, holding.Name);
        var json = RightCertificateFile.ToJson(original);
        Assert.True(RightCertificateVerifier.Verify(original, key, DateTimeOffset.UtcNow).Succeeded);

        var failed = new Dictionary<VerificationCheck, int>();
        var unparsable = 0;
        var step = Math.Max(1, json.Length / 400);
        for (var i = 0; i < json.Length; i += step)
        {
            var altered = new StringBuilder(json) { [i] = json[i] == 'A' ? 'B' : 'A' }.ToString();
            RightCertificate forged;
            try
            {
                forged = RightCertificateFile.FromJson(altered);
            }
            catch (FormatException)
            {
                unparsable++;
                continue;
            }

            var result = RightCertificateVerifier.Verify(forged, key, DateTimeOffset.UtcNow);
            if (result.Succeeded)
            {
                // Only a change that decodes to the very same certificate (e.g. base64's unused low bits) may verify.
                Assert.True(forged.Equals(original), $"altering offset {i} ('{json[i]}') still verified: {result.Message}");
            }
            else
            {
                failed[result.FailedCheck] = failed.GetValueOrDefault(result.FailedCheck) + 1;
            }
        }

        // The alterations land in every part, so each part's check catches some.
        Assert.True(unparsable > 0);
        foreach (var check in new[] { VerificationCheck.Record, VerificationCheck.Leaf, VerificationCheck.Inclusion, VerificationCheck.Signature })
        {
            Assert.True(failed.ContainsKey(check), $"no alteration failed the {check} check: {string.Join(", ", failed)}");
        }
    }

    [Fact]
    public async Task A_forger_fails_at_the_check_their_change_breaks()
    {
        var (holding, licence, key) = await LicensedAsync();
        using var acme = Gateway.As(Participant.Acme);
        var certificate = await CertificateAsync(acme, holding.Name);
        var now = DateTimeOffset.UtcNow;

        // A record saying someone else holds the right: its hash is not the one the log attests.
        var record = Right.Parser.ParseFrom(certificate.Record);
        record.Holder = "globex";
        Assert.Equal(VerificationCheck.Record, Verify(certificate, c => c.Record = record.ToByteString(), key, now));

        // An older record: the version and hash of an earlier event, not the last.
        var older = record.Clone();
        older.Holder = "acme";
        older.Version = 1;
        Assert.Equal(VerificationCheck.Record, Verify(certificate, c => c.Record = older.ToByteString(), key, now));

        // Another key of the same name: the checkpoint's signature does not verify.
        var impostor = NoteVerifierKey.FromPublicKey(key.Name, RandomNumberGenerator.GetBytes(32));
        Assert.Equal(VerificationCheck.Signature, RightCertificateVerifier.Verify(certificate, impostor, now).FailedCheck);

        // A proof that leads elsewhere, events out of order, a missing proof.
        Assert.Equal(VerificationCheck.Inclusion, Verify(certificate, c => c.Proofs[0].Hashes[0] = ByteString.CopyFrom(new byte[32]), key, now));
        Assert.Equal(VerificationCheck.Sequence, Verify(certificate, c =>
        {
            (c.Events[0], c.Events[1]) = (c.Events[1], c.Events[0]);
            (c.Proofs[0], c.Proofs[1]) = (c.Proofs[1], c.Proofs[0]);
        }, key, now));
        Assert.Equal(VerificationCheck.Incomplete, Verify(certificate, c => c.Proofs.RemoveAt(0), key, now));

        // An event whose shown fields differ from its leaf.
        Assert.Equal(VerificationCheck.Leaf, Verify(certificate, c => c.Events[0].Actor = "globex", key, now));

        // Another right's record: no event here attests it.
        var (other, _, _) = await LicensedAsync();
        var otherRecord = (await CertificateAsync(acme, other.Name)).Record;
        Assert.Equal(VerificationCheck.Record, Verify(certificate, c => c.Record = otherRecord, key, now));

        var licenceCertificate = await CertificateAsync(acme, licence.Name);

        // Dropping the licensor's history from a licence's certificate.
        Assert.Equal(VerificationCheck.Event, Verify(licenceCertificate, c =>
        {
            while (c.Events.Count > 1)
            {
                c.Events.RemoveAt(0);
                c.Proofs.RemoveAt(0);
            }
        }, key, now));
    }

    [Fact]
    public async Task Every_licence_of_a_right_has_a_certificate_that_verifies_and_a_step_left_out_of_the_middle_fails()
    {
        var (holding, first, key) = await LicensedAsync();
        using var acme = Gateway.As(Participant.Acme);
        var second = (await acme.Rights.LicenseRightAsync(new LicenseRightRequest { Name = holding.Name, Licensee = "umbrella", Kind = RightKind.ProcessingUse })).Right;
        foreach (var licence in new[] { first, second })
        {
            var result = RightCertificateVerifier.Verify(await CertificateAsync(acme, licence.Name), key, DateTimeOffset.UtcNow);
            Assert.True(result.Succeeded, result.Message);
        }

        // The holding right's own certificate lists both licences, and still verifies; without its objection step it does not.
        var certificate = await CertificateAsync(acme, holding.Name);
        Assert.True(RightCertificateVerifier.Verify(certificate, key, DateTimeOffset.UtcNow).Succeeded);
        Assert.Equal(VerificationCheck.Sequence, Verify(certificate, c =>
        {
            c.Events.RemoveAt(1);
            c.Proofs.RemoveAt(1);
        }, key, DateTimeOffset.UtcNow));
    }

    private static VerificationCheck Verify(RightCertificate certificate, Action<RightCertificate> forge, NoteVerifierKey key, DateTimeOffset now)
    {
        var forged = certificate.Clone();
        forge(forged);
        return RightCertificateVerifier.Verify(forged, key, now).FailedCheck;
    }

    private static async Task<RightCertificate> CertificateAsync(ExchangeClient client, string right) =>
        (await client.Rights.GetRightCertificateAsync(new GetRightCertificateRequest { Name = right })).Certificate;

    /// <summary>acme's holding right (objected to by globex, the objection dismissed, approved) and a research licence of it to initech.</summary>
    private async Task<(Right Holding, Right Licence, NoteVerifierKey Key)> LicensedAsync()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var globex = Gateway.As(Participant.Globex);
        using var ops = Gateway.As(Participant.Operator);
        var dataset = await CatalogFixture.CreateAsync(acme, withRevision: true);
        var pending = await acme.RegisterAsync(dataset.Name, RightKind.Holding, ["research", "forecasting"], DateTimeOffset.UtcNow.AddDays(90));
        var objection = (await globex.Rights.FileRightObjectionAsync(new() { Name = pending.Name, Reason = "ours" })).Objection;
        await ops.Rights.ResolveRightObjectionAsync(new() { Name = objection.Name, Reason = "acme's sensors" });
        var holding = (await ops.Rights.ApproveRightAsync(new() { Name = pending.Name })).Right;
        var licence = (await acme.Rights.LicenseRightAsync(new LicenseRightRequest
        {
            Name = holding.Name,
            Licensee = "initech",
            Kind = RightKind.ProcessingUse,
            Scope = new RightScope { Purposes = { "research" } },
        })).Right;
        var key = NoteVerifierKey.Parse((await acme.Audit.GetCheckpointAsync(new GetCheckpointRequest())).Checkpoint.VerifierKey);
        return (holding, licence, key);
    }
}
