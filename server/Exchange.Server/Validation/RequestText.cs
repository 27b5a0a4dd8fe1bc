using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Exchange.Server.Validation;

/// <summary>
/// The one rule for every string a caller sends: each string field of every request message has
/// a <see cref="TextRule"/> here, and <see cref="Check"/> holds a whole request to them before any
/// service code runs, so nothing unbounded or unprintable is stored, logged or shown. Meaning
/// (is this a dataset name, is that purpose allowed) is the services' business, after this.
/// </summary>
internal static class RequestText
{
    private static readonly TextRule Name = new(256);
    private static readonly TextRule PageToken = new(256);
    private static readonly TextRule RequestId = new(64);
    private static readonly TextRule Purpose = new(100, MaxItems: 16);
    private static readonly TextRule Reason = new(1000);

    /// <summary>Every string field a request can carry, by its full proto name.</summary>
    public static readonly FrozenDictionary<string, TextRule> Rules = new Dictionary<string, TextRule>(StringComparer.Ordinal)
    {
        // Resources as sent in Create and Update calls; output-only fields are held to the same
        // rule, so a Get, change, Update round trip passes and nothing else does.
        ["exchange.v1.Dataset.name"] = Name,
        ["exchange.v1.Dataset.provider"] = Name,
        ["exchange.v1.Dataset.title"] = new(200),
        ["exchange.v1.Dataset.description"] = new(8192, MultiLine: true),
        ["exchange.v1.Dataset.tags"] = new(64, MaxItems: 32),
        ["exchange.v1.Dataset.latest_revision"] = Name,
        ["exchange.v1.Dataset.delist_reason"] = Reason,
        ["exchange.v1.Terms.purposes"] = Purpose,
        ["google.protobuf.FieldMask.paths"] = new(64, MaxItems: 16),

        ["exchange.v1.CreateDatasetRequest.request_id"] = RequestId,
        ["exchange.v1.GetDatasetRequest.name"] = Name,
        ["exchange.v1.ListDatasetsRequest.page_token"] = PageToken,
        ["exchange.v1.ListDatasetsRequest.query"] = new(200),
        ["exchange.v1.ListDatasetsRequest.tag"] = new(64),
        ["exchange.v1.ListDatasetsRequest.provider"] = Name,
        ["exchange.v1.PublishDatasetRequest.name"] = Name,
        ["exchange.v1.DelistDatasetRequest.name"] = Name,
        ["exchange.v1.DelistDatasetRequest.reason"] = Reason,
        ["exchange.v1.GetRevisionRequest.name"] = Name,
        ["exchange.v1.ListRevisionsRequest.parent"] = Name,
        ["exchange.v1.ListRevisionsRequest.page_token"] = PageToken,

        ["exchange.v1.RequestAccessRequest.dataset"] = Name,
        ["exchange.v1.RequestAccessRequest.purpose"] = Purpose,
        ["exchange.v1.RequestAccessRequest.request_id"] = RequestId,
        ["exchange.v1.GetAccessRequestRequest.name"] = Name,
        ["exchange.v1.ListAccessRequestsRequest.page_token"] = PageToken,
        ["exchange.v1.ListAccessRequestsRequest.dataset"] = Name,
        ["exchange.v1.ListAccessRequestsRequest.consumer"] = Name,
        ["exchange.v1.ApproveAccessRequestRequest.name"] = Name,
        ["exchange.v1.RejectAccessRequestRequest.name"] = Name,
        ["exchange.v1.RejectAccessRequestRequest.reason"] = Reason,
        ["exchange.v1.WithdrawAccessRequestRequest.name"] = Name,
        ["exchange.v1.GetGrantRequest.name"] = Name,
        ["exchange.v1.ListGrantsRequest.page_token"] = PageToken,
        ["exchange.v1.ListGrantsRequest.dataset"] = Name,
        ["exchange.v1.ListGrantsRequest.consumer"] = Name,
        ["exchange.v1.RevokeGrantRequest.name"] = Name,
        ["exchange.v1.RevokeGrantRequest.reason"] = Reason,
        ["exchange.v1.CancelGrantRenewalRequest.name"] = Name,

        ["exchange.v1.UploadHeader.dataset"] = Name,
        ["exchange.v1.UploadHeader.media_type"] = new(255),
        ["exchange.v1.Column.name"] = Name,
        ["exchange.v1.View.columns"] = new(256, MaxItems: 1000),
        ["exchange.v1.Comparison.column"] = Name,
        ["exchange.v1.Comparison.values"] = new(1000, MaxItems: 1000),
        ["exchange.v1.Mask.column"] = Name,
        ["exchange.v1.Mask.width"] = new(64),
        ["exchange.v1.DownloadRequest.grant"] = Name,
        ["exchange.v1.DownloadRequest.revision"] = Name,
        ["exchange.v1.DownloadRequest.purpose"] = Purpose,
        ["exchange.v1.DownloadRequest.transfer"] = Name,
        ["exchange.v1.DownloadRequest.request_id"] = RequestId,
        ["exchange.v1.GetTransferRequest.name"] = Name,
        ["exchange.v1.ListTransfersRequest.page_token"] = PageToken,
        ["exchange.v1.ListTransfersRequest.grant"] = Name,
        ["exchange.v1.ListTransfersRequest.dataset"] = Name,
        ["exchange.v1.PreviewDeliveryRequest.grant"] = Name,
        ["exchange.v1.PreviewDeliveryRequest.revision"] = Name,

        ["exchange.v1.AnalysisRule.dimensions"] = new(256, MaxItems: 256),
        ["exchange.v1.AnalysisRule.identity_column"] = Name,
        ["exchange.v1.AggregateColumn.column"] = Name,
        ["exchange.v1.RunQueryRequest.grant"] = Name,
        ["exchange.v1.RunQueryRequest.sql"] = new(Compute.QueryTokenizer.MaxLength, MultiLine: true),
        ["exchange.v1.RunQueryRequest.revision"] = Name,
        ["exchange.v1.StructuredQuery.group_by"] = new(256, MaxItems: 256),
        ["exchange.v1.StructuredQuery.Output.column"] = Name,
        ["exchange.v1.StructuredQuery.Output.name"] = Name,
        ["exchange.v1.AddQueryBudgetRequest.grant"] = Name,
        ["exchange.v1.AddQueryBudgetRequest.reason"] = Reason,

        ["exchange.v1.ListAuditEventsRequest.page_token"] = PageToken,
        ["exchange.v1.ListAuditEventsRequest.dataset"] = Name,
        ["exchange.v1.ListAuditEventsRequest.participant"] = Name,
        ["exchange.v1.ListAuditEventsRequest.action"] = new(64),
        ["exchange.v1.WatchAuditEventsRequest.dataset"] = Name,
        ["exchange.v1.WatchAuditEventsRequest.participant"] = Name,
        ["exchange.v1.WatchAuditEventsRequest.action"] = new(64),

        ["exchange.v1.GetParticipantRequest.name"] = Name,
        ["exchange.v1.ListParticipantsRequest.page_token"] = PageToken,
        ["exchange.v1.SuspendParticipantRequest.name"] = Name,
        ["exchange.v1.SuspendParticipantRequest.reason"] = Reason,
        ["exchange.v1.ReinstateParticipantRequest.name"] = Name,
        ["exchange.v1.ReinstateParticipantRequest.reason"] = Reason,

        ["exchange.v1.Dataset.lineage_reason"] = new(4000),

        ["exchange.v1.Right.name"] = Name,
        ["exchange.v1.Right.dataset"] = Name,
        ["exchange.v1.Right.holder"] = Name,
        ["exchange.v1.Right.registrant"] = Name,
        ["exchange.v1.Right.pending_holder"] = Name,
        ["exchange.v1.Right.decision_reason"] = new(2000),
        ["exchange.v1.RightBasis.licensed_from"] = Name,
        ["exchange.v1.RightEvidence.media_type"] = new(255),
        ["exchange.v1.RightEvidence.description"] = new(500),
        ["exchange.v1.RightScope.purposes"] = Purpose,
        ["exchange.v1.RightScope.territories"] = new(16, MaxItems: Rights.RightValidation.MaxTerritories),
        ["exchange.v1.RightObjection.name"] = Name,
        ["exchange.v1.RightObjection.objector"] = Name,
        ["exchange.v1.RightObjection.reason"] = Reason,
        ["exchange.v1.RightObjection.resolution"] = Reason,
        ["exchange.v1.RegisterRightRequest.parent"] = Name,
        ["exchange.v1.RegisterRightRequest.request_id"] = RequestId,
        ["exchange.v1.GetRightRequest.name"] = Name,
        ["exchange.v1.ListRightsRequest.page_token"] = PageToken,
        ["exchange.v1.ListRightsRequest.parent"] = Name,
        ["exchange.v1.ListRightsRequest.holder"] = Name,
        ["exchange.v1.FileRightObjectionRequest.name"] = Name,
        ["exchange.v1.FileRightObjectionRequest.reason"] = Reason,
        ["exchange.v1.ResolveRightObjectionRequest.name"] = Name,
        ["exchange.v1.ResolveRightObjectionRequest.reason"] = Reason,
        ["exchange.v1.ApproveRightRequest.name"] = Name,
        ["exchange.v1.RejectRightRequest.name"] = Name,
        ["exchange.v1.RejectRightRequest.reason"] = Reason,
        ["exchange.v1.LicenseRightRequest.name"] = Name,
        ["exchange.v1.LicenseRightRequest.licensee"] = Name,
        ["exchange.v1.LicenseRightRequest.request_id"] = RequestId,
        ["exchange.v1.TransferRightRequest.name"] = Name,
        ["exchange.v1.TransferRightRequest.new_holder"] = Name,
        ["exchange.v1.AcceptRightTransferRequest.name"] = Name,
        ["exchange.v1.ChangeRightRequest.name"] = Name,
        ["exchange.v1.RenewRightRequest.name"] = Name,
        ["exchange.v1.CancelRightRequest.name"] = Name,
        ["exchange.v1.CancelRightRequest.reason"] = Reason,
        ["exchange.v1.GetRightCertificateRequest.name"] = Name,

        ["exchange.v1.DeclareDerivationRequest.dataset"] = Name,
        ["exchange.v1.DeclareDerivationRequest.request_id"] = RequestId,
        ["exchange.v1.DerivationSource.revision"] = Name,
        ["exchange.v1.DerivationSource.grant"] = Name,
        ["exchange.v1.GetLineageRequest.dataset"] = Name,

        ["exchange.v1.RequestAccessRequest.offer"] = Name,
        ["exchange.v1.Offer.name"] = Name,
        ["exchange.v1.Offer.dataset"] = Name,
        ["exchange.v1.Offer.private_to"] = Name,
        ["exchange.v1.Offer.description"] = new(2000, MultiLine: true),
        ["exchange.v1.Money.currency"] = new(3),
        ["exchange.v1.CreateOfferRequest.parent"] = Name,
        ["exchange.v1.CreateOfferRequest.request_id"] = RequestId,
        ["exchange.v1.GetOfferRequest.name"] = Name,
        ["exchange.v1.ListOffersRequest.parent"] = Name,
        ["exchange.v1.WithdrawOfferRequest.name"] = Name,
        ["exchange.v1.QuoteAccessRequest.offer"] = Name,

        ["exchange.v1.GetStatementRequest.name"] = Name,
        ["exchange.v1.GetStatementRequest.page_token"] = PageToken,
        ["exchange.v1.GetBillingPeriodRequest.name"] = Name,
        ["exchange.v1.CloseBillingPeriodRequest.name"] = Name,
        ["exchange.v1.ListSettlementsRequest.parent"] = Name,
        ["exchange.v1.ListSettlementsRequest.page_token"] = PageToken,
        ["exchange.v1.MarkSettlementPaidRequest.name"] = Name,
        ["exchange.v1.MarkSettlementPaidRequest.payment_reference"] = new(200),
        ["exchange.v1.ReverseChargeRequest.name"] = Name,
        ["exchange.v1.ReverseChargeRequest.reason"] = Reason,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>A field without a rule of its own (a new one nobody listed yet) gets the strictest sensible one.</summary>
    private static readonly TextRule Unlisted = new(256);

    private static readonly ConcurrentDictionary<MessageDescriptor, Plan> Plans = new();

    /// <summary>Throws INVALID_ARGUMENT naming the first field of <paramref name="message"/> that breaks its rule.</summary>
    public static void Check(IMessage message) => CheckFields(message, prefix: null);

    /// <summary>Why <paramref name="value"/> breaks <paramref name="rule"/>, or null when it keeps it.</summary>
    public static string? Problem(string value, TextRule rule)
    {
        if (value.Length > rule.MaxLength)
        {
            return $"is {value.Length.ToString(CultureInfo.InvariantCulture)} characters long; at most {rule.MaxLength.ToString(CultureInfo.InvariantCulture)} are accepted";
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                // Beyond the basic plane, the invisible ones are the tag characters (U+E0000 block).
                if (CharUnicodeInfo.GetUnicodeCategory(value, i) == UnicodeCategory.Format)
                {
                    return Invisible(char.ConvertToUtf32(c, value[i + 1]), i);
                }

                i++;
                continue;
            }

            if (char.IsSurrogate(c) || c == '\uFFFD')
            {
                // Invalid UTF-8 on the wire decodes to U+FFFD.
                return $"is not valid UTF-8 (at character {i.ToString(CultureInfo.InvariantCulture)})";
            }

            if (rule.MultiLine && c is '\n' or '\t' && i < value.Length - 1)
            {
                continue;
            }

            if (char.IsControl(c) || c is '\u2028' or '\u2029')
            {
                return rule.MultiLine && c is '\n' or '\t'
                    ? "must not end with a line break or tab"
                    : $"holds the control character U+{(int)c:X4} at character {i.ToString(CultureInfo.InvariantCulture)}" +
                      (rule.MultiLine ? "; only line feeds and tabs are allowed inside it" : "; it is a single line of text");
            }

            if (c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069')
            {
                return $"holds the bidirectional override U+{(int)c:X4} at character {i.ToString(CultureInfo.InvariantCulture)}, which can make text display as something else";
            }

            // Zero-width and other formatting characters make two strings look alike ("research" and "research\u200B");
            // the joiners stay, which scripts and emoji need.
            if (c is not ('\u200C' or '\u200D') && CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format)
            {
                return Invisible(c, i);
            }
        }

        return null;
    }

    private static string Invisible(int codePoint, int index) =>
        $"holds the invisible formatting character U+{codePoint:X4} at character {index.ToString(CultureInfo.InvariantCulture)}, which makes text look like other text";

    private static void CheckFields(IMessage message, string? prefix)
    {
        var plan = Plans.GetOrAdd(message.Descriptor, static descriptor => new Plan(descriptor));
        foreach (var (field, rule) in plan.Strings)
        {
            var path = prefix is null ? field.Name : $"{prefix}.{field.Name}";
            if (!field.IsRepeated)
            {
                Require((string)field.Accessor.GetValue(message), rule, path);
                continue;
            }

            var values = (IReadOnlyList<string>)field.Accessor.GetValue(message);
            if (values.Count > rule.MaxItems)
            {
                throw Errors.InvalidArgument($"{path} holds {values.Count} values; at most {rule.MaxItems} are accepted.");
            }

            for (var i = 0; i < values.Count; i++)
            {
                Require(values[i], rule, $"{path}[{i}]");
            }
        }

        foreach (var field in plan.Messages)
        {
            var path = prefix is null ? field.Name : $"{prefix}.{field.Name}";
            if (!field.IsRepeated)
            {
                if (field.Accessor.GetValue(message) is IMessage nested)
                {
                    CheckFields(nested, path);
                }

                continue;
            }

            var items = (System.Collections.IList)field.Accessor.GetValue(message);
            for (var i = 0; i < items.Count; i++)
            {
                CheckFields((IMessage)items[i]!, $"{path}[{i}]");
            }
        }
    }

    private static void Require(string value, TextRule rule, string path)
    {
        if (Problem(value, rule) is { } problem)
        {
            throw Errors.InvalidArgument($"{path} {problem}; nothing was done.");
        }
    }

    /// <summary>Which fields of one message type hold text, and which hold messages that may.</summary>
    private sealed class Plan
    {
        public Plan(MessageDescriptor descriptor)
        {
            foreach (var field in descriptor.Fields.InFieldNumberOrder())
            {
                if (field.FieldType == FieldType.String)
                {
                    Strings.Add((field, Rules.GetValueOrDefault(field.FullName, Unlisted)));
                }
                else if (field.FieldType == FieldType.Message && !field.IsMap && HoldsText(field.MessageType, []))
                {
                    Messages.Add(field);
                }
            }
        }

        public List<(FieldDescriptor Field, TextRule Rule)> Strings { get; } = [];

        public List<FieldDescriptor> Messages { get; } = [];

        private static bool HoldsText(MessageDescriptor descriptor, HashSet<MessageDescriptor> seen) =>
            seen.Add(descriptor) && descriptor.Fields.InFieldNumberOrder().Any(f =>
                f.FieldType == FieldType.String || (f.FieldType == FieldType.Message && HoldsText(f.MessageType, seen)));
    }
}
