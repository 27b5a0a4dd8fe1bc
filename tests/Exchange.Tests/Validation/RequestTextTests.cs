using Exchange.Client;
using Exchange.Server.Access;
using Exchange.Server.Audit;
using Exchange.Server.Catalog;
using Exchange.Server.Transfers;
using Exchange.Server.Validation;
using Exchange.Tests.Access;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Validation;

/// <summary>
/// From the attacker's side: every string field of every request, sent a megabyte, an ESC
/// sequence or a trailing newline, is INVALID_ARGUMENT naming the field, and leaves the audit log
/// exactly as it was (a refused download used to record whatever purpose it was sent, forever).
/// </summary>
public sealed class RequestTextTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
{
    private static readonly Google.Protobuf.Reflection.ServiceDescriptor[] Services =
    [
        V1.CatalogService.Descriptor, V1.AccessService.Descriptor, V1.TransferService.Descriptor, V1.AuditService.Descriptor,
        V1.ParticipantService.Descriptor, V1.ComputeService.Descriptor, V1.RightsService.Descriptor, V1.LineageService.Descriptor,
        V1.PricingService.Descriptor, V1.BillingService.Descriptor,
    ];

    public static readonly TheoryData<string, string> BadValues = new()
    {
        { "one megabyte", new string('a', 1024 * 1024) },
        { "an ESC sequence", "research\u001b[2J\u001b[31mAPPROVED" },
        { "a trailing newline", "research\n" },
    };

    [Fact]
    public void Every_string_field_of_every_request_has_a_rule_and_every_rule_a_field()
    {
        var fields = Services.SelectMany(s => s.Methods).SelectMany(m => StringPaths(m.InputType, []))
            .Select(path => path[^1].FullName).ToHashSet(StringComparer.Ordinal);

        Assert.Equal([], fields.Where(f => !RequestText.Rules.ContainsKey(f)).Order());
        Assert.Equal([], RequestText.Rules.Keys.Where(k => !fields.Contains(k)).Order());
    }

    [Theory]
    [InlineData("research", false)]
    [InlineData("Forschung zu Wetterdaten 🌧", false)]
    [InlineData("family 👨‍👩‍👧 and می‌خواهم", false)]
    [InlineData("line one\nline two\twith a tab", true)]
    public void Clean_text_passes(string value, bool multiLine) =>
        Assert.Null(RequestText.Problem(value, new TextRule(100, multiLine)));

    [Theory]
    [InlineData("acme\n", false, "control character U+000A")]
    [InlineData("acme\r", true, "control character U+000D")]
    [InlineData("a\u001b[31m", true, "control character U+001B")]
    [InlineData("a\u0085b", false, "control character U+0085")]
    [InlineData("a\u007fb", false, "control character U+007F")]
    [InlineData("a\u2028b", true, "control character U+2028")]
    [InlineData("invoice_\u202Egpj.exe", false, "bidirectional override U+202E")]
    [InlineData("a\u2067b", false, "bidirectional override U+2067")]
    [InlineData("bad \uFFFD bytes", false, "not valid UTF-8")]
    [InlineData("research\u200B", false, "invisible formatting character U+200B")]
    [InlineData("\uFEFFresearch", false, "invisible formatting character U+FEFF")]
    [InlineData("rtl\u200Fmark", false, "invisible formatting character U+200F")]
    [InlineData("tag\U000E0041", false, "invisible formatting character U+E0041")]
    [InlineData("lone \uD800 half", false, "not valid UTF-8")]
    [InlineData("ends with a line break\n", true, "must not end with a line break")]
    [InlineData("0123456789012345678901234567890", false, "31 characters long; at most 30")]
    public void Unclean_or_long_text_is_refused_with_the_reason(string value, bool multiLine, string reason) =>
        Assert.Contains(reason, RequestText.Problem(value, new TextRule(30, multiLine)) ?? "(accepted)");

    [Theory]
    [InlineData("datasets/abc\n")]
    [InlineData("grants/abc\n")]
    [InlineData("accessRequests/abc\n")]
    [InlineData("transfers/abc\n")]
    [InlineData("datasets/abc/revisions/1\n")]
    [InlineData("participants/acme\n")]
    public void Names_with_a_trailing_newline_are_not_names(string name)
    {
        Func<object> parse = name.Split('/')[0] switch
        {
            "datasets" when name.Contains("/revisions/", StringComparison.Ordinal) => () => RevisionId.Parse(name),
            "datasets" => () => DatasetId.Parse(name),
            "grants" => () => GrantId.Parse(name),
            "accessRequests" => () => AccessRequestId.Parse(name),
            "participants" => () => Exchange.Server.Participants.ParticipantNames.Parse(name),
            _ => () => TransferId.Parse(name),
        };

        Assert.Equal(StatusCode.InvalidArgument, Assert.Throws<RpcException>(parse).StatusCode);
        Assert.False(Exchange.Server.Security.ParticipantId.IsValid("acme\n"));
    }

    [Fact]
    public async Task A_token_for_a_participant_with_a_trailing_newline_is_unauthenticated()
    {
        using var impostor = Gateway.ClientFor("acme\n", "provider");
        var ex = await Assert.ThrowsAsync<RpcException>(() => impostor.Catalog.ListDatasetsAsync(new ListDatasetsRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
    }

    [Theory]
    [MemberData(nameof(BadValues))]
    public async Task Every_string_field_of_every_rpc_refuses_it_before_any_effect(string kind, string bad)
    {
        var world = await World.CreateAsync(Gateway);
        var log = Gateway.Services.GetRequiredService<AuditStore>();
        var before = log.Size;
        var accepted = new List<string>();

        foreach (var method in Services.SelectMany(s => s.Methods))
        {
            foreach (var path in StringPaths(method.InputType, []))
            {
                var request = world.BaseRequest(method);
                Set(request, path, bad);
                // An element of a list is named with its index: the one element Set adds is [0].
                var field = string.Join('.', path.Select(f => f.IsRepeated && f.FieldType == FieldType.Message ? f.Name + "[0]" : f.Name));
                var status = await world.CallAsync(method, request);
                if (status.StatusCode != StatusCode.InvalidArgument || !status.Detail.StartsWith(field, StringComparison.Ordinal))
                {
                    accepted.Add($"{method.FullName} {field}: {status.StatusCode} {Truncate(status.Detail)}");
                }
            }
        }

        Assert.True(accepted.Count == 0, $"{kind} was not refused as INVALID_ARGUMENT naming the field:\n{string.Join('\n', accepted)}");
        Assert.Equal(before, log.Size);
    }

    private static string Truncate(string text) => text.Length <= 200 ? text : text[..200] + "…";

    /// <summary>Every path from a request type to a string field, through nested messages.</summary>
    private static IEnumerable<FieldDescriptor[]> StringPaths(MessageDescriptor type, FieldDescriptor[] prefix)
    {
        foreach (var field in type.Fields.InFieldNumberOrder())
        {
            if (field.FieldType == FieldType.String)
            {
                yield return [.. prefix, field];
            }
            else if (field.FieldType == FieldType.Message && prefix.All(p => p.MessageType != field.MessageType))
            {
                foreach (var path in StringPaths(field.MessageType, [.. prefix, field]))
                {
                    yield return path;
                }
            }
        }
    }

    private static void Set(IMessage request, FieldDescriptor[] path, string value)
    {
        var target = request;
        foreach (var field in path[..^1])
        {
            if (field.IsRepeated)
            {
                // A list of messages (a schema's columns): the bad string goes into a new element.
                var element = field.MessageType.Parser.ParseFrom(ByteString.Empty);
                ((System.Collections.IList)field.Accessor.GetValue(target)).Add(element);
                target = element;
                continue;
            }

            if (field.Accessor.GetValue(target) is not IMessage nested)
            {
                nested = field.MessageType.Parser.ParseFrom(ByteString.Empty);
                field.Accessor.SetValue(target, nested);
            }

            target = nested;
        }

        var last = path[^1];
        if (last.IsRepeated)
        {
            ((System.Collections.IList)last.Accessor.GetValue(target)).Add(value);
        }
        else
        {
            last.Accessor.SetValue(target, value);
        }
    }

    /// <summary>A provider's listed dataset with a revision, a consumer's grant on it with one transfer, and another pending request.</summary>
    private sealed record World(ExchangeClient Acme, ExchangeClient Initech, ExchangeClient Auditor, ExchangeClient Operator, Dataset Dataset,
        AccessRequest Pending, Grant Grant, string Transfer)
    {
        public static async Task<World> CreateAsync(ExchangeFactory Gateway)
        {
            var acme = Gateway.As(Participant.Acme);
            var initech = Gateway.As(Participant.Initech);
            var umbrella = Gateway.As(Participant.Umbrella);
            var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
            var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset));
            var (header, _, _) = await initech.DownloadAllAsync(grant.Name);
            var pending = await umbrella.RequestAsync(dataset);
            return new World(acme, initech, Gateway.As(Participant.Auditor), Gateway.As(Participant.Operator), dataset, pending, grant,
                header.Transfer);
        }

        /// <summary>A right's name on the dataset; none is registered, since every call here is refused before it is looked up.</summary>
        private string Right => Dataset.Name + "/rights/validation";

        /// <summary>A request each RPC would accept from its caller (<see cref="CallAsync"/>), before one field is spoiled.</summary>
        public IMessage BaseRequest(MethodDescriptor method) => method.Name switch
        {
            "CreateDataset" => new CreateDatasetRequest
            {
                Dataset = new Dataset { Title = "t", Classification = Classification.Public },
                RequestId = "r-1",
            },
            "GetDataset" => new GetDatasetRequest { Name = Dataset.Name },
            "ListDatasets" => new ListDatasetsRequest { Query = "weather" },
            "UpdateDataset" => new UpdateDatasetRequest
            {
                Dataset = new Dataset { Name = Dataset.Name, Title = "t" },
                UpdateMask = new() { Paths = { "title" } },
            },
            "PublishDataset" => new PublishDatasetRequest { Name = Dataset.Name },
            "DelistDataset" => new DelistDatasetRequest { Name = Dataset.Name, Reason = "superseded" },
            "GetRevision" => new GetRevisionRequest { Name = Dataset.LatestRevision },
            "ListRevisions" => new ListRevisionsRequest { Parent = Dataset.Name },
            "RequestAccess" => new RequestAccessRequest
            {
                Dataset = Dataset.Name,
                Purpose = "research",
                RequestedTerms = new Terms { Purposes = { "research" } },
                RequestId = "r-2",
            },
            "GetAccessRequest" => new GetAccessRequestRequest { Name = Pending.Name },
            "ListAccessRequests" => new ListAccessRequestsRequest { Dataset = Dataset.Name },
            "ApproveAccessRequest" => new ApproveAccessRequestRequest { Name = Pending.Name, Terms = new Terms { Purposes = { "research" } } },
            "RejectAccessRequest" => new RejectAccessRequestRequest { Name = Pending.Name, Reason = "no" },
            "WithdrawAccessRequest" => new WithdrawAccessRequestRequest { Name = Pending.Name },
            "GetGrant" => new GetGrantRequest { Name = Grant.Name },
            "ListGrants" => new ListGrantsRequest { Dataset = Dataset.Name },
            "RevokeGrant" => new RevokeGrantRequest { Name = Grant.Name, Reason = "ended" },
            "CancelGrantRenewal" => new CancelGrantRenewalRequest { Name = Grant.Name },
            "Upload" => new UploadRequest { Header = new UploadHeader { Dataset = Dataset.Name, MediaType = "text/csv" } },
            "Download" => new DownloadRequest { Grant = Grant.Name, Purpose = "research", RequestId = "r-3" },
            "GetTransfer" => new GetTransferRequest { Name = Transfer },
            "ListTransfers" => new ListTransfersRequest { Grant = Grant.Name },
            "PreviewDelivery" => new PreviewDeliveryRequest { Grant = Grant.Name, Revision = Dataset.LatestRevision },
            "ListAuditEvents" => new ListAuditEventsRequest { Dataset = Dataset.Name },
            "WatchAuditEvents" => new WatchAuditEventsRequest { Dataset = Dataset.Name },
            "GetParticipant" => new GetParticipantRequest { Name = "participants/initech" },
            "ListParticipants" => new ListParticipantsRequest { State = ParticipantState.Suspended },
            "SuspendParticipant" => new SuspendParticipantRequest { Name = "participants/validation-subject", Reason = "fraud" },
            "ReinstateParticipant" => new ReinstateParticipantRequest { Name = "participants/validation-subject", Reason = "cleared" },
            "RunQuery" => new RunQueryRequest { Grant = Grant.Name, Sql = "SELECT COUNT(*) FROM data", Revision = Dataset.LatestRevision },
            "AddQueryBudget" => new AddQueryBudgetRequest { Grant = Grant.Name, EpsilonMillis = 100, Reason = "renewed" },
            "RegisterRight" => new RegisterRightRequest { Parent = Dataset.Name, Right = new Right { Kind = RightKind.Holding }, RequestId = "r-4" },
            "GetRight" => new GetRightRequest { Name = Right },
            "ListRights" => new ListRightsRequest { Parent = Dataset.Name, Holder = "acme" },
            "FileRightObjection" => new FileRightObjectionRequest { Name = Right, Reason = "ours" },
            "ResolveRightObjection" => new ResolveRightObjectionRequest { Name = Right + "/objections/o", Reason = "no basis" },
            "ApproveRight" => new ApproveRightRequest { Name = Right },
            "RejectRight" => new RejectRightRequest { Name = Right, Reason = "unsigned" },
            "LicenseRight" => new LicenseRightRequest { Name = Right, Licensee = "initech", Kind = RightKind.ProcessingUse, RequestId = "r-5" },
            "TransferRight" => new TransferRightRequest { Name = Right, NewHolder = "globex" },
            "AcceptRightTransfer" => new AcceptRightTransferRequest { Name = Right },
            "ChangeRight" => new ChangeRightRequest { Name = Right, Change = new RightChange() },
            "RenewRight" => new RenewRightRequest { Name = Right },
            "CancelRight" => new CancelRightRequest { Name = Right, Reason = "sold" },
            "GetRightCertificate" => new GetRightCertificateRequest { Name = Right },
            // No source: the one spoiled is the only one.
            "DeclareDerivation" => new DeclareDerivationRequest { Dataset = Dataset.Name, RequestId = "r-6" },
            "GetLineage" => new GetLineageRequest { Dataset = Dataset.Name },
            "CreateOffer" => new CreateOfferRequest
            {
                Parent = Dataset.Name,
                Offer = new Offer { Kind = OfferKind.OneOff, Price = new Money { Currency = "EUR", AmountMinor = 100 } },
                RequestId = "r-7",
            },
            "GetOffer" => new GetOfferRequest { Name = Dataset.Name + "/offers/validation" },
            "ListOffers" => new ListOffersRequest { Parent = Dataset.Name },
            "WithdrawOffer" => new WithdrawOfferRequest { Name = Dataset.Name + "/offers/validation" },
            "QuoteAccess" => new QuoteAccessRequest { Offer = Dataset.Name + "/offers/validation" },
            "GetStatement" => new GetStatementRequest { Name = "participants/initech/statements/2026-12" },
            "GetBillingPeriod" => new GetBillingPeriodRequest { Name = "billingPeriods/2026-12" },
            "CloseBillingPeriod" => new CloseBillingPeriodRequest { Name = "billingPeriods/2001-01" },
            "ListSettlements" => new ListSettlementsRequest { Parent = "billingPeriods/2001-01" },
            "MarkSettlementPaid" => new MarkSettlementPaidRequest { Name = "billingPeriods/2001-01/settlements/1", PaymentReference = "bank-1" },
            "ReverseCharge" => new ReverseChargeRequest { Name = "usageRecords/transfer-validation", Reason = "billed twice" },
            _ => throw new InvalidOperationException($"{method.FullName} has no base request here; add one."),
        };

        /// <summary>Calls <paramref name="method"/> as the participant who may, and returns how it ended.</summary>
        public async Task<Status> CallAsync(MethodDescriptor method, IMessage request)
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var options = new CallOptions(cancellationToken: deadline.Token);
            try
            {
                Task call = request switch
                {
                    CreateDatasetRequest r => Acme.Catalog.CreateDatasetAsync(r, options).ResponseAsync,
                    GetDatasetRequest r => Acme.Catalog.GetDatasetAsync(r, options).ResponseAsync,
                    ListDatasetsRequest r => Initech.Catalog.ListDatasetsAsync(r, options).ResponseAsync,
                    UpdateDatasetRequest r => Acme.Catalog.UpdateDatasetAsync(r, options).ResponseAsync,
                    PublishDatasetRequest r => Acme.Catalog.PublishDatasetAsync(r, options).ResponseAsync,
                    DelistDatasetRequest r => Acme.Catalog.DelistDatasetAsync(r, options).ResponseAsync,
                    GetRevisionRequest r => Initech.Catalog.GetRevisionAsync(r, options).ResponseAsync,
                    ListRevisionsRequest r => Initech.Catalog.ListRevisionsAsync(r, options).ResponseAsync,
                    RequestAccessRequest r => Initech.Access.RequestAccessAsync(r, options).ResponseAsync,
                    GetAccessRequestRequest r => Acme.Access.GetAccessRequestAsync(r, options).ResponseAsync,
                    ListAccessRequestsRequest r => Acme.Access.ListAccessRequestsAsync(r, options).ResponseAsync,
                    ApproveAccessRequestRequest r => Acme.Access.ApproveAccessRequestAsync(r, options).ResponseAsync,
                    RejectAccessRequestRequest r => Acme.Access.RejectAccessRequestAsync(r, options).ResponseAsync,
                    WithdrawAccessRequestRequest r => Initech.Access.WithdrawAccessRequestAsync(r, options).ResponseAsync,
                    GetGrantRequest r => Initech.Access.GetGrantAsync(r, options).ResponseAsync,
                    ListGrantsRequest r => Initech.Access.ListGrantsAsync(r, options).ResponseAsync,
                    RevokeGrantRequest r => Acme.Access.RevokeGrantAsync(r, options).ResponseAsync,
                    CancelGrantRenewalRequest r => Initech.Access.CancelGrantRenewalAsync(r, options).ResponseAsync,
                    UploadRequest r => UploadAsync(r, options),
                    DownloadRequest r => ReadAllAsync(Initech.Transfers.Download(r, options).ResponseStream, deadline.Token),
                    GetTransferRequest r => Initech.Transfers.GetTransferAsync(r, options).ResponseAsync,
                    ListTransfersRequest r => Initech.Transfers.ListTransfersAsync(r, options).ResponseAsync,
                    PreviewDeliveryRequest r => Acme.Transfers.PreviewDeliveryAsync(r, options).ResponseAsync,
                    ListAuditEventsRequest r => Auditor.Audit.ListAuditEventsAsync(r, options).ResponseAsync,
                    WatchAuditEventsRequest r => Auditor.Audit.WatchAuditEvents(r, options).ResponseStream.MoveNext(deadline.Token),
                    GetParticipantRequest r => Auditor.Participants.GetParticipantAsync(r, options).ResponseAsync,
                    ListParticipantsRequest r => Auditor.Participants.ListParticipantsAsync(r, options).ResponseAsync,
                    SuspendParticipantRequest r => Operator.Participants.SuspendParticipantAsync(r, options).ResponseAsync,
                    ReinstateParticipantRequest r => Operator.Participants.ReinstateParticipantAsync(r, options).ResponseAsync,
                    RunQueryRequest r => Initech.Compute.RunQueryAsync(r, options).ResponseAsync,
                    AddQueryBudgetRequest r => Acme.Compute.AddQueryBudgetAsync(r, options).ResponseAsync,
                    RegisterRightRequest r => Acme.Rights.RegisterRightAsync(r, options).ResponseAsync,
                    GetRightRequest r => Acme.Rights.GetRightAsync(r, options).ResponseAsync,
                    ListRightsRequest r => Acme.Rights.ListRightsAsync(r, options).ResponseAsync,
                    FileRightObjectionRequest r => Initech.Rights.FileRightObjectionAsync(r, options).ResponseAsync,
                    ResolveRightObjectionRequest r => Operator.Rights.ResolveRightObjectionAsync(r, options).ResponseAsync,
                    ApproveRightRequest r => Operator.Rights.ApproveRightAsync(r, options).ResponseAsync,
                    RejectRightRequest r => Operator.Rights.RejectRightAsync(r, options).ResponseAsync,
                    LicenseRightRequest r => Acme.Rights.LicenseRightAsync(r, options).ResponseAsync,
                    TransferRightRequest r => Acme.Rights.TransferRightAsync(r, options).ResponseAsync,
                    AcceptRightTransferRequest r => Initech.Rights.AcceptRightTransferAsync(r, options).ResponseAsync,
                    ChangeRightRequest r => Acme.Rights.ChangeRightAsync(r, options).ResponseAsync,
                    RenewRightRequest r => Acme.Rights.RenewRightAsync(r, options).ResponseAsync,
                    CancelRightRequest r => Acme.Rights.CancelRightAsync(r, options).ResponseAsync,
                    GetRightCertificateRequest r => Initech.Rights.GetRightCertificateAsync(r, options).ResponseAsync,
                    DeclareDerivationRequest r => Acme.Lineage.DeclareDerivationAsync(r, options).ResponseAsync,
                    GetLineageRequest r => Initech.Lineage.GetLineageAsync(r, options).ResponseAsync,
                    CreateOfferRequest r => Acme.Pricing.CreateOfferAsync(r, options).ResponseAsync,
                    GetOfferRequest r => Initech.Pricing.GetOfferAsync(r, options).ResponseAsync,
                    ListOffersRequest r => Initech.Pricing.ListOffersAsync(r, options).ResponseAsync,
                    WithdrawOfferRequest r => Acme.Pricing.WithdrawOfferAsync(r, options).ResponseAsync,
                    QuoteAccessRequest r => Initech.Pricing.QuoteAccessAsync(r, options).ResponseAsync,
                    GetStatementRequest r => Initech.Billing.GetStatementAsync(r, options).ResponseAsync,
                    GetBillingPeriodRequest r => Initech.Billing.GetBillingPeriodAsync(r, options).ResponseAsync,
                    CloseBillingPeriodRequest r => Operator.Billing.CloseBillingPeriodAsync(r, options).ResponseAsync,
                    ListSettlementsRequest r => Operator.Billing.ListSettlementsAsync(r, options).ResponseAsync,
                    MarkSettlementPaidRequest r => Operator.Billing.MarkSettlementPaidAsync(r, options).ResponseAsync,
                    ReverseChargeRequest r => Operator.Billing.ReverseChargeAsync(r, options).ResponseAsync,
                    _ => throw new InvalidOperationException($"{method.FullName} is not called here; add it."),
                };
                await call;
                return Status.DefaultSuccess;
            }
            catch (RpcException ex)
            {
                return ex.Status;
            }
        }

        private async Task UploadAsync(UploadRequest header, CallOptions options)
        {
            using var call = Acme.Transfers.Upload(options);
            try
            {
                await call.RequestStream.WriteAsync(header);
                await call.RequestStream.WriteAsync(new UploadRequest { Chunk = ByteString.CopyFromUtf8("a,b\n1,2\n") });
                await call.RequestStream.CompleteAsync();
            }
            catch (RpcException)
            {
                // A write racing the refusal of the header can fail as CANCELLED; the response holds the call's status.
            }

            await call.ResponseAsync;
        }

        private static async Task ReadAllAsync<T>(IAsyncStreamReader<T> stream, CancellationToken cancellationToken)
        {
            while (await stream.MoveNext(cancellationToken))
            {
            }
        }
    }
}
