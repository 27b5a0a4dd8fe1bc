using System.Globalization;
using System.Security.Cryptography;
using Exchange.Client.Audit;
using Exchange.Transparency;
using Exchange.V1;
using Google.Protobuf;

namespace Exchange.Client.Rights;

/// <summary>
/// Verifies a rights certificate with nothing but the log's verifier key: the checkpoint is signed
/// by that key; every event is in the checkpoint's tree; every event is a successful step of this
/// right (or, for a licence, of the right it was licensed from, up to the licence); and the record
/// is the one the right's last event attests by its SHA-256. The format: docs/rights-certificates.md.
/// </summary>
public static class RightCertificateVerifier
{
    private const string ActionPrefix = "right.";

    /// <summary>
    /// Verifies <paramref name="certificate"/> against <paramref name="key"/>, which must come from what the
    /// verifier trusts (a pinned key), never from the certificate; <paramref name="now"/> decides expiry.
    /// </summary>
    public static RightCertificateVerification Verify(RightCertificate certificate, NoteVerifierKey key, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(key);
        if (certificate.Record.IsEmpty || certificate.Events.Count == 0 || certificate.Checkpoint is null)
        {
            return RightCertificateVerification.Failed(VerificationCheck.Incomplete, "the certificate lacks its record, its events or its checkpoint");
        }

        if (certificate.Proofs.Count != certificate.Events.Count)
        {
            return RightCertificateVerification.Failed(VerificationCheck.Incomplete,
                $"the certificate has {certificate.Events.Count} events but {certificate.Proofs.Count} inclusion proofs");
        }

        Right right;
        try
        {
            right = Right.Parser.ParseFrom(certificate.Record);
        }
        catch (InvalidProtocolBufferException)
        {
            return RightCertificateVerification.Failed(VerificationCheck.Record, "the certificate's record is not an encoded Right");
        }

        CheckpointNote checkpoint;
        try
        {
            checkpoint = CheckpointNote.ParseVerified(certificate.Checkpoint.Note, key);
        }
        catch (FormatException ex)
        {
            return RightCertificateVerification.Failed(VerificationCheck.Signature, $"the checkpoint does not verify with {key.Name}: {ex.Message}");
        }

        if (checkpoint.Origin != key.Name)
        {
            return RightCertificateVerification.Failed(VerificationCheck.Origin,
                $"the checkpoint is for log '{checkpoint.Origin}', but the verifier key is named '{key.Name}'");
        }

        // The unsigned copies beside the note must say what was signed, so that whoever reads them reads what was verified.
        var shown = certificate.Checkpoint;
        if (shown.Origin != checkpoint.Origin || shown.Size != checkpoint.Size || shown.LogId != checkpoint.LogId ||
            !shown.RootHash.Span.SequenceEqual(checkpoint.RootHash) || shown.VerifierKey != key.Encoded)
        {
            return RightCertificateVerification.Failed(VerificationCheck.Signature, "the checkpoint's fields differ from its signed note or the verifier key");
        }

        var records = new List<AuditRecord>(certificate.Events.Count);
        for (var i = 0; i < certificate.Events.Count; i++)
        {
            var e = certificate.Events[i];
            var proof = certificate.Proofs[i];
            if ((i > 0 && e.Index <= certificate.Events[i - 1].Index) || proof.Index != e.Index || proof.TreeSize != checkpoint.Size)
            {
                return RightCertificateVerification.Failed(VerificationCheck.Sequence,
                    $"event {i} (index {e.Index}) is out of order or its proof is for index {proof.Index} in a tree of {proof.TreeSize}");
            }

            var (record, problem) = AuditLogVerifier.DecodeLeaf(e);
            if (record is null)
            {
                return RightCertificateVerification.Failed(VerificationCheck.Leaf, $"event {e.Index}: {problem}");
            }

            if (!MerkleProofs.VerifyInclusion(e.Index, checkpoint.Size, Rfc6962.LeafHash(e.Leaf.Span), proof.Hashes.Select(h => h.ToByteArray()).ToList(),
                checkpoint.RootHash))
            {
                return RightCertificateVerification.Failed(VerificationCheck.Inclusion,
                    $"the inclusion proof of event {e.Index} does not lead to the signed root of size {checkpoint.Size}");
            }

            records.Add(record);
        }

        // The record must be one the log attests; then the events must be its history; then it must be the latest version.
        var digest = Convert.ToHexStringLower(SHA256.HashData(certificate.Record.Span));
        var attesting = records.FindLastIndex(r => Detail(r, "record_sha256") == digest);
        if (attesting < 0)
        {
            return RightCertificateVerification.Failed(VerificationCheck.Record, $"no event in the certificate attests its record (SHA-256 {digest})");
        }

        if (EventProblem(right, records) is { } eventProblem)
        {
            return eventProblem;
        }

        // The right's own events carry versions 1, 2, … n with none left out, so no step can be dropped from the middle.
        var versions = records.Where(r => r.Resource == right.Name).Select(r => Detail(r, "version")).ToList();
        var gap = versions.Select((v, i) => (v, i)).FirstOrDefault(p => p.v != (p.i + 1).ToString(CultureInfo.InvariantCulture));
        if (gap.v is not null)
        {
            return RightCertificateVerification.Failed(VerificationCheck.Sequence,
                $"the right's events skip a version: the {gap.i + 1}. of them is version {gap.v}, not {gap.i + 1}");
        }

        var last = records.FindLastIndex(r => r.Resource == right.Name);
        if (last != attesting || Detail(records[last], "version") != right.Version.ToString(CultureInfo.InvariantCulture))
        {
            return RightCertificateVerification.Failed(VerificationCheck.Record,
                $"the record (version {right.Version}) is not the right as its last event, {certificate.Events[last].Index}, attests it " +
                $"(version {Detail(records[last], "version")})");
        }

        var stateNow = right.State == RightState.Active && right.EndTime is { } end && end.ToDateTimeOffset() <= now ? RightState.Expired : right.State;
        return new RightCertificateVerification
        {
            Message = $"{right.Name}: a {Describe(right.Kind)} right held by {right.Holder}, {stateNow.ToString().ToLowerInvariant()} as of its event " +
                $"{certificate.Events[last].Index} ({records[last].Time.ToDateTimeOffset():yyyy-MM-dd HH:mm:ss}Z), attested by {records.Count} events in the checkpoint of size " +
                $"{checkpoint.Size} signed by {key.Name}+{key.KeyId:x8}",
            Right = right,
            StateNow = stateNow,
            Checkpoint = checkpoint,
        };
    }

    /// <summary>Checks that the events are this right's history: successful rights events, starting with its registration or licence.</summary>
    private static RightCertificateVerification? EventProblem(Right right, List<AuditRecord> records)
    {
        var source = right.Basis?.Kind == RightBasisKind.License ? right.Basis.LicensedFrom : null;
        foreach (var record in records)
        {
            if (!record.Action.StartsWith(ActionPrefix, StringComparison.Ordinal) || record.Outcome != AuditOutcome.Success)
            {
                return RightCertificateVerification.Failed(VerificationCheck.Event,
                    $"a certificate holds only successful rights events, not '{record.Action}' ({record.Outcome})");
            }

            // Besides its own events: those of the right it was licensed from, and the licences drawn from it.
            var licenceOfThis = record.Action == "right.license" && Detail(record, "licensed_from") == right.Name;
            if (record.Resource != right.Name && !licenceOfThis && (source is null || record.Resource != source))
            {
                return RightCertificateVerification.Failed(VerificationCheck.Event, $"an event is about '{record.Resource}', not {right.Name}");
            }
        }

        var own = records.Where(r => r.Resource == right.Name).ToList();
        var first = source is null ? "right.register" : "right.license";
        if (own.Count == 0 || own[0].Action != first)
        {
            return RightCertificateVerification.Failed(VerificationCheck.Event, $"the right's first event is not its {first[ActionPrefix.Length..]}");
        }

        if (source is not null)
        {
            // The licensor's right, as it stood when it licensed: active, and held by the participant that licensed.
            var before = records.TakeWhile(r => r != own[0]).LastOrDefault(r => r.Resource == source);
            if (before is null || Detail(before, "state") != "active" || Detail(before, "holder") != right.Registrant)
            {
                return RightCertificateVerification.Failed(VerificationCheck.Event,
                    $"the certificate does not show {source} active and held by {right.Registrant} when it licensed {right.Name}");
            }
        }

        return null;
    }

    private static string Describe(RightKind kind) => kind switch
    {
        RightKind.Holding => "holding",
        RightKind.ProcessingUse => "processing-use",
        RightKind.ProductOperation => "product-operation",
        _ => "unspecified",
    };

    private static string? Detail(AuditRecord record, string key) => record.Details.FirstOrDefault(d => d.Key == key)?.Value;
}
