using Exchange.Client;
using Exchange.Tests.Access;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Exchange.Tests.Security;

/// <summary>
/// Every exchange.v1 RPC, called by each kind of caller on objects in each state, must answer
/// exactly the status in its cell. Codes: OK; NF = NOT_FOUND (the caller may not know the object
/// exists); PD = PERMISSION_DENIED (it may see but not act); FP = FAILED_PRECONDITION (the state
/// forbids it); UA = UNAUTHENTICATED; UN = UNIMPLEMENTED (not built yet).
/// Columns: owning provider, another provider, requesting consumer, another consumer, auditor,
/// operator, a metrics scraper (the metrics role only: no exchange.v1 call at all), anonymous.
/// The requesting consumer holds a grant on the DELISTED dataset; every dataset has a revision.
/// Rights are the owning provider's, on a listed dataset (Development has no public-notice period, so they are reviewed at once).
/// </summary>
[Trait("Category", "Slow")]
public sealed class AuthorizationMatrixTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
{
    private static readonly Participant?[] Callers =
        [Participant.Acme, Participant.Globex, Participant.Initech, Participant.Umbrella, Participant.Auditor, Participant.Operator, Participant.Metrics, null];

    private static readonly Dictionary<string, StatusCode> Codes = new()
    {
        ["OK"] = StatusCode.OK,
        ["NF"] = StatusCode.NotFound,
        ["PD"] = StatusCode.PermissionDenied,
        ["FP"] = StatusCode.FailedPrecondition,
        ["UA"] = StatusCode.Unauthenticated,
        ["UN"] = StatusCode.Unimplemented,
    };

    /// <summary>The objects one cell acts on, made fresh for every cell.</summary>
    private sealed record Target(string Dataset = "", string Request = "", string Grant = "", string Transfer = "", string Participant = "",
        string Right = "", string Objection = "", string Source = "", string Offer = "", string Period = "", string Settlement = "", string Usage = "");

    private sealed record Row(string Rpc, string State, string Expected, Func<ExchangeClient, Target, Task> Call);

    private static Timestamp Tomorrow => Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(1));

    // The table is aligned by hand so that each column reads as one caller.
#pragma warning disable IDE0055
    private static readonly Row[] Matrix =
    [
        //                                              owner prov2 reqst cons2 audit oper  metr  anon
        new("CatalogService/CreateDataset", "-",        "OK    OK    PD    PD    PD    PD    PD    UA", (c, _) => c.Catalog.CreateDatasetAsync(new() { Dataset = new() { Title = "t", Classification = Classification.Public } }).ResponseAsync),
        new("CatalogService/GetDataset", "draft",       "OK    NF    NF    NF    NF    NF    PD    UA", (c, t) => c.Catalog.GetDatasetAsync(new() { Name = t.Dataset }).ResponseAsync),
        new("CatalogService/GetDataset", "listed",      "OK    OK    OK    OK    OK    OK    PD    UA", (c, t) => c.Catalog.GetDatasetAsync(new() { Name = t.Dataset }).ResponseAsync),
        new("CatalogService/GetDataset", "delisted",    "OK    NF    OK    NF    OK    OK    PD    UA", (c, t) => c.Catalog.GetDatasetAsync(new() { Name = t.Dataset }).ResponseAsync),
        new("CatalogService/ListDatasets", "-",         "OK    OK    OK    OK    OK    OK    PD    UA", (c, _) => c.Catalog.ListDatasetsAsync(new()).ResponseAsync),
        new("CatalogService/UpdateDataset", "draft",    "OK    NF    NF    NF    NF    NF    PD    UA", Update),
        new("CatalogService/UpdateDataset", "listed",   "OK    PD    PD    PD    PD    PD    PD    UA", Update),
        new("CatalogService/UpdateDataset", "delisted", "OK    NF    PD    NF    PD    PD    PD    UA", Update),
        new("CatalogService/PublishDataset", "draft",   "OK    NF    NF    NF    NF    NF    PD    UA", (c, t) => c.Catalog.PublishDatasetAsync(new() { Name = t.Dataset }).ResponseAsync),
        new("CatalogService/PublishDataset", "listed",  "FP    PD    PD    PD    PD    PD    PD    UA", (c, t) => c.Catalog.PublishDatasetAsync(new() { Name = t.Dataset }).ResponseAsync),
        new("CatalogService/PublishDataset", "delisted","OK    NF    PD    NF    PD    PD    PD    UA", (c, t) => c.Catalog.PublishDatasetAsync(new() { Name = t.Dataset }).ResponseAsync),
        new("CatalogService/DelistDataset", "draft",    "FP    NF    NF    NF    NF    NF    PD    UA", (c, t) => c.Catalog.DelistDatasetAsync(new() { Name = t.Dataset }).ResponseAsync),
        new("CatalogService/DelistDataset", "listed",   "OK    PD    PD    PD    PD    OK    PD    UA", (c, t) => c.Catalog.DelistDatasetAsync(new() { Name = t.Dataset }).ResponseAsync),
        new("CatalogService/DelistDataset", "delisted", "FP    NF    PD    NF    PD    FP    PD    UA", (c, t) => c.Catalog.DelistDatasetAsync(new() { Name = t.Dataset }).ResponseAsync),
        new("CatalogService/GetRevision", "draft",      "OK    NF    NF    NF    NF    NF    PD    UA", (c, t) => c.Catalog.GetRevisionAsync(new() { Name = t.Dataset + "/revisions/1" }).ResponseAsync),
        new("CatalogService/GetRevision", "listed",     "OK    OK    OK    OK    OK    OK    PD    UA", (c, t) => c.Catalog.GetRevisionAsync(new() { Name = t.Dataset + "/revisions/1" }).ResponseAsync),
        new("CatalogService/GetRevision", "delisted",   "OK    NF    OK    NF    OK    OK    PD    UA", (c, t) => c.Catalog.GetRevisionAsync(new() { Name = t.Dataset + "/revisions/1" }).ResponseAsync),
        new("CatalogService/ListRevisions", "draft",    "OK    NF    NF    NF    NF    NF    PD    UA", (c, t) => c.Catalog.ListRevisionsAsync(new() { Parent = t.Dataset }).ResponseAsync),
        new("CatalogService/ListRevisions", "listed",   "OK    OK    OK    OK    OK    OK    PD    UA", (c, t) => c.Catalog.ListRevisionsAsync(new() { Parent = t.Dataset }).ResponseAsync),
        new("CatalogService/ListRevisions", "delisted", "OK    NF    OK    NF    OK    OK    PD    UA", (c, t) => c.Catalog.ListRevisionsAsync(new() { Parent = t.Dataset }).ResponseAsync),

        new("AccessService/RequestAccess", "draft",     "PD    NF    NF    NF    NF    NF    PD    UA", Request),
        new("AccessService/RequestAccess", "listed",    "PD    PD    OK    OK    PD    PD    PD    UA", Request),
        new("AccessService/RequestAccess", "delisted",  "PD    NF    FP    NF    PD    PD    PD    UA", Request),
        new("AccessService/GetAccessRequest", "pending","OK    NF    OK    NF    OK    OK    PD    UA", (c, t) => c.Access.GetAccessRequestAsync(new() { Name = t.Request }).ResponseAsync),
        new("AccessService/ListAccessRequests", "-",    "OK    OK    OK    OK    OK    OK    PD    UA", (c, _) => c.Access.ListAccessRequestsAsync(new()).ResponseAsync),
        new("AccessService/ApproveAccessRequest", "pending",  "OK    NF    PD    NF    PD    PD    PD    UA", Approve),
        new("AccessService/ApproveAccessRequest", "approved", "FP    NF    PD    NF    PD    PD    PD    UA", Approve),
        new("AccessService/RejectAccessRequest", "pending",   "OK    NF    PD    NF    PD    PD    PD    UA", Reject),
        new("AccessService/RejectAccessRequest", "rejected",  "FP    NF    PD    NF    PD    PD    PD    UA", Reject),
        new("AccessService/WithdrawAccessRequest", "pending", "PD    NF    OK    NF    PD    PD    PD    UA", (c, t) => c.Access.WithdrawAccessRequestAsync(new() { Name = t.Request }).ResponseAsync),
        new("AccessService/WithdrawAccessRequest", "withdrawn","PD   NF    FP    NF    PD    PD    PD    UA", (c, t) => c.Access.WithdrawAccessRequestAsync(new() { Name = t.Request }).ResponseAsync),
        new("AccessService/GetGrant", "active",         "OK    NF    OK    NF    OK    OK    PD    UA", (c, t) => c.Access.GetGrantAsync(new() { Name = t.Grant }).ResponseAsync),
        new("AccessService/GetGrant", "revoked",        "OK    NF    OK    NF    OK    OK    PD    UA", (c, t) => c.Access.GetGrantAsync(new() { Name = t.Grant }).ResponseAsync),
        new("AccessService/ListGrants", "-",            "OK    OK    OK    OK    OK    OK    PD    UA", (c, _) => c.Access.ListGrantsAsync(new()).ResponseAsync),
        new("AccessService/RevokeGrant", "active",      "OK    NF    PD    NF    PD    OK    PD    UA", Revoke),
        new("AccessService/RevokeGrant", "revoked",     "FP    NF    PD    NF    PD    FP    PD    UA", Revoke),
        new("AccessService/CancelGrantRenewal", "subscribed", "PD    NF    OK    NF    PD    PD    PD    UA", CancelRenewal),
        new("AccessService/CancelGrantRenewal", "active",     "PD    NF    FP    NF    PD    PD    PD    UA", CancelRenewal),
        new("AccessService/CancelGrantRenewal", "revoked",    "PD    NF    FP    NF    PD    PD    PD    UA", CancelRenewal),

        new("AuditService/ListAuditEvents", "-",        "OK    OK    OK    OK    OK    OK    PD    UA", (c, _) => c.Audit.ListAuditEventsAsync(new()).ResponseAsync),
        new("AuditService/WatchAuditEvents", "-",       "OK    OK    OK    OK    OK    OK    PD    UA", WatchBriefly),
        new("AuditService/GetCheckpoint", "-",          "OK    OK    OK    OK    OK    OK    PD    UA", (c, _) => c.Audit.GetCheckpointAsync(new()).ResponseAsync),
        new("AuditService/GetInclusionProof", "-",      "OK    OK    OK    OK    OK    OK    PD    UA", (c, _) => c.Audit.GetInclusionProofAsync(new() { Index = 0, TreeSize = 1 }).ResponseAsync),
        new("AuditService/GetConsistencyProof", "-",    "OK    OK    OK    OK    OK    OK    PD    UA", (c, _) => c.Audit.GetConsistencyProofAsync(new() { FirstTreeSize = 1, SecondTreeSize = 1 }).ResponseAsync),

        new("TransferService/Upload", "draft",          "OK    NF    NF    NF    NF    NF    PD    UA", Upload),
        new("TransferService/Upload", "listed",         "OK    PD    PD    PD    PD    PD    PD    UA", Upload),
        new("TransferService/Upload", "delisted",       "OK    NF    PD    NF    PD    PD    PD    UA", Upload),
        new("TransferService/Download", "active",       "PD    NF    OK    NF    PD    PD    PD    UA", Download),
        new("TransferService/Download", "revoked",      "PD    NF    PD    NF    PD    PD    PD    UA", Download),
        new("TransferService/GetTransfer", "transferred","OK   NF    OK    NF    OK    OK    PD    UA", (c, t) => c.Transfers.GetTransferAsync(new() { Name = t.Transfer }).ResponseAsync),
        new("TransferService/ListTransfers", "-",       "OK    OK    OK    OK    OK    OK    PD    UA", (c, _) => c.Transfers.ListTransfersAsync(new()).ResponseAsync),
        new("TransferService/PreviewDelivery", "active","OK    NF    PD    NF    PD    PD    PD    UA", (c, t) => c.Transfers.PreviewDeliveryAsync(new() { Grant = t.Grant }).ResponseAsync),

        // A compute grant (on the station table, with a privacy budget); "active" is a download grant, which allows no queries.
        new("ComputeService/RunQuery", "compute",       "PD    NF    OK    NF    PD    PD    PD    UA", (c, t) => c.Compute.RunQueryAsync(new() { Grant = t.Grant, Sql = "SELECT COUNT(*) FROM data" }).ResponseAsync),
        new("ComputeService/RunQuery", "active",        "PD    NF    PD    NF    PD    PD    PD    UA", (c, t) => c.Compute.RunQueryAsync(new() { Grant = t.Grant, Sql = "SELECT COUNT(*) FROM data" }).ResponseAsync),
        new("ComputeService/RunQuery", "revoked",       "PD    NF    PD    NF    PD    PD    PD    UA", (c, t) => c.Compute.RunQueryAsync(new() { Grant = t.Grant, Sql = "SELECT COUNT(*) FROM data" }).ResponseAsync),
        new("ComputeService/AddQueryBudget", "compute", "OK    NF    PD    NF    PD    PD    PD    UA", (c, t) => c.Compute.AddQueryBudgetAsync(new() { Grant = t.Grant, EpsilonMillis = 100, Reason = "more" }).ResponseAsync),
        new("ComputeService/AddQueryBudget", "active",  "FP    NF    PD    NF    PD    PD    PD    UA", (c, t) => c.Compute.AddQueryBudgetAsync(new() { Grant = t.Grant, EpsilonMillis = 100, Reason = "more" }).ResponseAsync),

        // Rights: the owning provider holds a holding right (pending, or approved: active); every participant sees the registry.
        new("RightsService/RegisterRight", "draft",      "OK    NF    NF    NF    NF    NF    PD    UA", Register),
        new("RightsService/RegisterRight", "listed",     "OK    PD    PD    PD    PD    PD    PD    UA", Register),
        new("RightsService/GetRight", "right-pending",   "OK    OK    OK    OK    OK    OK    PD    UA", (c, t) => c.Rights.GetRightAsync(new() { Name = t.Right }).ResponseAsync),
        new("RightsService/ListRights", "-",             "OK    OK    OK    OK    OK    OK    PD    UA", (c, _) => c.Rights.ListRightsAsync(new()).ResponseAsync),
        new("RightsService/FileRightObjection", "right-pending", "PD    OK    OK    OK    PD    PD    PD    UA", Object),
        new("RightsService/FileRightObjection", "right-active",  "PD    FP    FP    FP    PD    PD    PD    UA", Object),
        new("RightsService/ResolveRightObjection", "objected",   "PD    PD    PD    PD    PD    OK    PD    UA",
            (c, t) => c.Rights.ResolveRightObjectionAsync(new() { Name = t.Objection, Reason = "matrix" }).ResponseAsync),
        new("RightsService/ApproveRight", "right-pending", "PD    PD    PD    PD    PD    OK    PD    UA", (c, t) => c.Rights.ApproveRightAsync(new() { Name = t.Right }).ResponseAsync),
        new("RightsService/ApproveRight", "right-active",  "PD    PD    PD    PD    PD    FP    PD    UA", (c, t) => c.Rights.ApproveRightAsync(new() { Name = t.Right }).ResponseAsync),
        new("RightsService/RejectRight", "right-pending",  "PD    PD    PD    PD    PD    OK    PD    UA", (c, t) => c.Rights.RejectRightAsync(new() { Name = t.Right, Reason = "matrix" }).ResponseAsync),
        new("RightsService/RejectRight", "right-active",   "PD    PD    PD    PD    PD    FP    PD    UA", (c, t) => c.Rights.RejectRightAsync(new() { Name = t.Right, Reason = "matrix" }).ResponseAsync),
        new("RightsService/LicenseRight", "right-active",  "OK    PD    PD    PD    PD    PD    PD    UA", License),
        new("RightsService/LicenseRight", "right-pending", "FP    PD    PD    PD    PD    PD    PD    UA", License),
        new("RightsService/TransferRight", "right-active", "OK    PD    PD    PD    PD    PD    PD    UA", (c, t) => c.Rights.TransferRightAsync(new() { Name = t.Right, NewHolder = "initech" }).ResponseAsync),
        new("RightsService/AcceptRightTransfer", "offered","PD    PD    OK    PD    PD    PD    PD    UA", (c, t) => c.Rights.AcceptRightTransferAsync(new() { Name = t.Right }).ResponseAsync),
        new("RightsService/AcceptRightTransfer", "right-active", "FP    FP    FP    FP    FP    FP    PD    UA", (c, t) => c.Rights.AcceptRightTransferAsync(new() { Name = t.Right }).ResponseAsync),
        new("RightsService/ChangeRight", "right-active",   "OK    PD    PD    PD    PD    PD    PD    UA",
            (c, t) => c.Rights.ChangeRightAsync(new() { Name = t.Right, Change = new RightChange { EndTime = NextYear } }).ResponseAsync),
        new("RightsService/RenewRight", "right-active",    "OK    PD    PD    PD    PD    PD    PD    UA",
            (c, t) => c.Rights.RenewRightAsync(new() { Name = t.Right, EndTime = NextYear }).ResponseAsync),
        new("RightsService/CancelRight", "right-active",   "OK    PD    PD    PD    PD    OK    PD    UA", (c, t) => c.Rights.CancelRightAsync(new() { Name = t.Right, Reason = "matrix" }).ResponseAsync),
        new("RightsService/GetRightCertificate", "right-active", "OK    OK    OK    OK    OK    OK    PD    UA",
            (c, t) => c.Rights.GetRightCertificateAsync(new() { Name = t.Right }).ResponseAsync),

        // Lineage: the dataset declared derived is the owner's; the grant is initech's, on another dataset of the owner's, and allows
        // derivation, so no caller holds a grant of its own for it (declaring under one's own grant: LineageTests).
        new("LineageService/DeclareDerivation", "derivable-draft",  "FP    NF    NF    NF    NF    NF    PD    UA", Declare),
        new("LineageService/DeclareDerivation", "derivable-listed", "FP    PD    PD    PD    PD    PD    PD    UA", Declare),
        new("LineageService/GetLineage", "derivable-draft",  "OK    NF    NF    NF    NF    NF    PD    UA", (c, t) => c.Lineage.GetLineageAsync(new() { Dataset = t.Dataset }).ResponseAsync),
        new("LineageService/GetLineage", "derivable-listed", "OK    OK    OK    OK    OK    OK    PD    UA", (c, t) => c.Lineage.GetLineageAsync(new() { Dataset = t.Dataset }).ResponseAsync),

        // Pricing: a public offer of the owner's on a listed dataset ("priced"), or one it withdrew.
        new("PricingService/CreateOffer", "draft",       "OK    NF    NF    NF    NF    NF    PD    UA", CreateOffer),
        new("PricingService/CreateOffer", "listed",      "OK    PD    PD    PD    PD    PD    PD    UA", CreateOffer),
        new("PricingService/GetOffer", "priced",         "OK    OK    OK    OK    OK    OK    PD    UA", (c, t) => c.Pricing.GetOfferAsync(new() { Name = t.Offer }).ResponseAsync),
        new("PricingService/ListOffers", "priced",       "OK    OK    OK    OK    OK    OK    PD    UA", (c, t) => c.Pricing.ListOffersAsync(new() { Parent = t.Dataset }).ResponseAsync),
        new("PricingService/WithdrawOffer", "priced",    "OK    PD    PD    PD    PD    PD    PD    UA", (c, t) => c.Pricing.WithdrawOfferAsync(new() { Name = t.Offer }).ResponseAsync),
        new("PricingService/WithdrawOffer", "withdrawn-offer", "FP    PD    PD    PD    PD    PD    PD    UA", (c, t) => c.Pricing.WithdrawOfferAsync(new() { Name = t.Offer }).ResponseAsync),
        new("PricingService/QuoteAccess", "priced",      "OK    OK    OK    OK    OK    OK    PD    UA", (c, t) => c.Pricing.QuoteAccessAsync(new() { Offer = t.Offer }).ResponseAsync),
        new("PricingService/QuoteAccess", "withdrawn-offer", "FP    FP    FP    FP    FP    FP    PD    UA", (c, t) => c.Pricing.QuoteAccessAsync(new() { Offer = t.Offer }).ResponseAsync),

        // Billing: statements are initech's; a fresh period is a month long past; the settlement is of the current period, closed
        // once after the owner sold initech a one-off grant in it.
        new("BillingService/GetStatement", "-",          "PD    PD    OK    PD    OK    OK    PD    UA", (c, _) => c.Billing.GetStatementAsync(new() { Name = $"participants/initech/statements/{DateTime.UtcNow:yyyy-MM}" }).ResponseAsync),
        new("BillingService/GetBillingPeriod", "-",      "OK    OK    OK    OK    OK    OK    PD    UA", (c, _) => c.Billing.GetBillingPeriodAsync(new() { Name = $"billingPeriods/{DateTime.UtcNow:yyyy-MM}" }).ResponseAsync),
        new("BillingService/CloseBillingPeriod", "open-period",   "PD    PD    PD    PD    PD    OK    PD    UA", (c, t) => c.Billing.CloseBillingPeriodAsync(new() { Name = t.Period }).ResponseAsync),
        new("BillingService/CloseBillingPeriod", "closed-period", "PD    PD    PD    PD    PD    FP    PD    UA", (c, t) => c.Billing.CloseBillingPeriodAsync(new() { Name = t.Period }).ResponseAsync),
        new("BillingService/ListSettlements", "settlement",       "OK    OK    OK    OK    OK    OK    PD    UA", (c, t) => c.Billing.ListSettlementsAsync(new() { Parent = t.Period }).ResponseAsync),
        new("BillingService/MarkSettlementPaid", "settlement",    "PD    PD    PD    PD    PD    OK    PD    UA", (c, t) => c.Billing.MarkSettlementPaidAsync(new() { Name = t.Settlement, PaymentReference = "bank-1" }).ResponseAsync),
        new("BillingService/ReverseCharge", "charged",            "PD    PD    PD    PD    PD    OK    PD    UA", (c, t) => c.Billing.ReverseChargeAsync(new() { Name = t.Usage, Reason = "matrix" }).ResponseAsync),

        // The participant acted on is initech (the requesting consumer) for reads, and a fresh one no caller is for changes.
        new("ParticipantService/GetParticipant", "-",   "PD    PD    OK    PD    OK    OK    PD    UA", (c, _) => c.Participants.GetParticipantAsync(new() { Name = "participants/initech" }).ResponseAsync),
        new("ParticipantService/ListParticipants", "-", "PD    PD    PD    PD    OK    OK    PD    UA", (c, _) => c.Participants.ListParticipantsAsync(new()).ResponseAsync),
        new("ParticipantService/SuspendParticipant", "unsuspended",  "PD    PD    PD    PD    PD    OK    PD    UA", Suspend),
        new("ParticipantService/SuspendParticipant", "suspended",    "PD    PD    PD    PD    PD    FP    PD    UA", Suspend),
        new("ParticipantService/ReinstateParticipant", "suspended",  "PD    PD    PD    PD    PD    OK    PD    UA", Reinstate),
        new("ParticipantService/ReinstateParticipant", "unsuspended","PD    PD    PD    PD    PD    FP    PD    UA", Reinstate),
    ];
#pragma warning restore IDE0055

    [Fact]
    public void Every_mapped_exchange_rpc_is_in_the_matrix()
    {
        var mapped = new[]
            {
                CatalogReflection.Descriptor, AccessReflection.Descriptor, AuditReflection.Descriptor, TransferReflection.Descriptor,
                ParticipantReflection.Descriptor, ComputeReflection.Descriptor, RightsReflection.Descriptor, LineageReflection.Descriptor,
                PricingReflection.Descriptor, BillingReflection.Descriptor,
            }
            .SelectMany(f => f.Services)
            .SelectMany(s => s.Methods.Select(m => $"{s.Name}/{m.Name}"));
        Assert.Empty(mapped.Except(Matrix.Select(r => r.Rpc)));
    }

    [Fact]
    public async Task Every_caller_gets_exactly_the_status_in_its_cell()
    {
        var wrong = new List<string>();
        foreach (var row in Matrix)
        {
            var expected = row.Expected.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(expected.Length == Callers.Length, $"{row.Rpc} {row.State}: {expected.Length} cells");
            for (var i = 0; i < Callers.Length; i++)
            {
                var target = await SetUpAsync(row.State);
                using var client = Callers[i] is { } who ? Gateway.ClientFor(who) : Gateway.ClientWithToken(null);
                var actual = await StatusOf(() => row.Call(client, target));
                if (actual != Codes[expected[i]])
                {
                    wrong.Add($"{row.Rpc} [{row.State}] as {Callers[i]?.Id ?? "anonymous"}: expected {Codes[expected[i]]}, got {actual}");
                }
            }
        }

        Assert.True(wrong.Count == 0, string.Join('\n', wrong));
    }

    [Theory]
    [InlineData("metrics")]
    [InlineData(null)]
    public async Task A_caller_without_a_participant_role_is_told_which_role_each_kind_of_call_needs(string? role)
    {
        var token = ExchangeFactory.Token("prometheus", role is null ? [] : [role]);
        using var client = Gateway.ClientWithToken(token);
        var target = await SetUpAsync("active");
        var calls = new (string Kind, Func<Task> Call)[]
        {
            ("unary", () => client.Catalog.ListDatasetsAsync(new()).ResponseAsync),
            ("server streaming", () => WatchBriefly(client, target)),
            // Only the response is read: the refusal comes before any request, and a write racing it could see the call cancelled instead.
            ("client streaming", async () =>
            {
                using var upload = client.Transfers.Upload(deadline: DateTime.UtcNow.AddSeconds(10));
                await upload.ResponseAsync;
            }),
            ("download", () => Download(client, target)),
        };
        foreach (var (kind, call) in calls)
        {
            var error = await Assert.ThrowsAsync<RpcException>(call);
            Assert.True(error.StatusCode == StatusCode.PermissionDenied, $"{kind}: {error.Status}");
            Assert.Contains("provider, consumer, auditor or operator", error.Status.Detail, StringComparison.Ordinal);
            Assert.Contains(role ?? "no roles", error.Status.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Only_the_metrics_role_may_scrape_metrics_and_the_cli_mints_it()
    {
        var (exit, minted, error) = await ExchangeFactory.RunCliAsync(null,
            ["token", "--participant", "prometheus", "--role", "metrics", "--key", ExchangeFactory.DevKeyFile]);
        Assert.True(exit == 0, error);
        using var http = Gateway.CreateClient();
        var statuses = new Dictionary<string, System.Net.HttpStatusCode>();
        foreach (var (who, token) in new (string, string?)[]
        {
            ("anonymous", null),
            ("operator", ExchangeFactory.Token(Participant.Operator.Id, Participant.Operator.Roles)),
            ("auditor", ExchangeFactory.Token(Participant.Auditor.Id, Participant.Auditor.Roles)),
            ("provider", ExchangeFactory.Token(Participant.Acme.Id, Participant.Acme.Roles)),
            ("metrics", minted.Trim()),
        })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            request.Headers.Authorization = token is null ? null : new("Bearer", token);
            statuses[who] = (await http.SendAsync(request)).StatusCode;
        }

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, statuses["anonymous"]);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, statuses["operator"]);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, statuses["auditor"]);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, statuses["provider"]);
        Assert.Equal(System.Net.HttpStatusCode.OK, statuses["metrics"]);
    }

    private static int _pastMonths;

    private Lazy<Task<Target>> SettledTarget => _settled ??= new Lazy<Task<Target>>(SettleAsync);

    private Lazy<Task<Target>>? _settled;

    /// <summary>A one-off sale from the owner to initech in the current period, which the operator then closes: one gateway, one close.</summary>
    private async Task<Target> SettleAsync()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var initech = Gateway.As(Participant.Initech);
        using var ops = Gateway.As(Participant.Operator);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var offer = (await acme.Pricing.CreateOfferAsync(new CreateOfferRequest
        {
            Parent = dataset.Name,
            Offer = new Offer { Kind = OfferKind.OneOff, Price = new Money { Currency = "EUR", AmountMinor = 500 } },
        })).Offer;
        await acme.ApproveAsync(await initech.RequestAsync(dataset, offer: offer.Name));
        var closed = await ops.Billing.CloseBillingPeriodAsync(new CloseBillingPeriodRequest { Name = $"billingPeriods/{DateTime.UtcNow:yyyy-MM}" });
        return new Target(dataset.Name, Period: closed.Period.Name, Settlement: closed.Settlements[0].Name);
    }

    private async Task<Target> SetUpAsync(string state)
    {
        using var acme = Gateway.As(Participant.Acme);
        using var initech = Gateway.As(Participant.Initech);
        switch (state)
        {
            case "-":
                return new Target();
            case "draft":
                return new Target((await CatalogFixture.CreateAsync(acme, withRevision: true)).Name);
            case "listed":
                return new Target((await CatalogFixture.CreateAsync(acme, DatasetState.Listed)).Name);
            case "unsuspended":
                return new Target(Participant: $"participants/subject-{Guid.NewGuid():N}");
            case "suspended":
                var subject = $"participants/subject-{Guid.NewGuid():N}";
                using (var ops = Gateway.As(Participant.Operator))
                {
                    await ops.Participants.SuspendParticipantAsync(new SuspendParticipantRequest { Name = subject, Reason = "matrix" });
                }

                return new Target(Participant: subject);
            case "right-pending" or "right-active" or "objected" or "offered":
                var registered = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
                var right = (await acme.Rights.RegisterRightAsync(new RegisterRightRequest
                {
                    Parent = registered.Name,
                    Right = Rights.RightsFixture.Asked(RightKind.Holding, end: DateTimeOffset.UtcNow.AddDays(30)),
                })).Right;
                var rightTarget = new Target(registered.Name, Right: right.Name);
                if (state == "objected")
                {
                    using var globex = Gateway.As(Participant.Globex);
                    var objection = (await globex.Rights.FileRightObjectionAsync(new() { Name = right.Name, Reason = "matrix" })).Objection;
                    return rightTarget with { Objection = objection.Name };
                }

                if (state != "right-pending")
                {
                    using var ops = Gateway.As(Participant.Operator);
                    await ops.Rights.ApproveRightAsync(new ApproveRightRequest { Name = right.Name });
                }

                if (state == "offered")
                {
                    await acme.Rights.TransferRightAsync(new TransferRightRequest { Name = right.Name, NewHolder = "initech" });
                }

                return rightTarget;
            case "derivable-draft" or "derivable-listed":
                var source = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
                var derivable = await acme.ApproveAsync(await initech.RequestAsync(source, terms: new Terms
                {
                    Purposes = { "research" },
                    Derivation = new DerivationTerms { Allowed = true },
                }));
                var derived = await CatalogFixture.CreateAsync(acme, state == "derivable-listed" ? DatasetState.Listed : DatasetState.Draft, withRevision: true);
                return new Target(derived.Name, Grant: derivable.Name, Source: source.Name + "/revisions/1");
            case "open-period" or "closed-period":
                // A month of its own, long before any usage, so periods before it need no closing first.
                var month = new DateTime(2000, 1, 1).AddMonths(Interlocked.Increment(ref _pastMonths));
                var period = $"billingPeriods/{month:yyyy-MM}";
                if (state == "closed-period")
                {
                    using var ops = Gateway.As(Participant.Operator);
                    await ops.Billing.CloseBillingPeriodAsync(new CloseBillingPeriodRequest { Name = period });
                }

                return new Target(Period: period);
            case "settlement":
                return await SettledTarget.Value;
            case "charged":
                // The owner's one-off sale to initech: one usage record, charged at the approval.
                var sold = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
                var oneOff = (await acme.Pricing.CreateOfferAsync(new CreateOfferRequest
                {
                    Parent = sold.Name,
                    Offer = new Offer { Kind = OfferKind.OneOff, Price = new Money { Currency = "EUR", AmountMinor = 300 } },
                })).Offer;
                var bought = await acme.ApproveAsync(await initech.RequestAsync(sold, offer: oneOff.Name));
                return new Target(sold.Name, Grant: bought.Name, Usage: $"usageRecords/grant-{bought.Name["grants/".Length..]}");
            case "subscribed":
                // The owner's monthly, auto-renewing subscription, bought by initech.
                var subscribed = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
                var monthly = (await acme.Pricing.CreateOfferAsync(new CreateOfferRequest
                {
                    Parent = subscribed.Name,
                    Offer = new Offer
                    {
                        Kind = OfferKind.Subscription,
                        Price = new Money { Currency = "EUR", AmountMinor = 900 },
                        PeriodMonths = 1,
                        AutoRenew = true,
                    },
                })).Offer;
                return new Target(subscribed.Name, Grant: (await acme.ApproveAsync(await initech.RequestAsync(subscribed, offer: monthly.Name))).Name);
            case "priced" or "withdrawn-offer":
                var priced = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
                var offer = (await acme.Pricing.CreateOfferAsync(new CreateOfferRequest
                {
                    Parent = priced.Name,
                    Offer = new Offer { Kind = OfferKind.PerTransfer, Price = new Money { Currency = "EUR", AmountMinor = 100 } },
                })).Offer;
                if (state == "withdrawn-offer")
                {
                    await acme.Pricing.WithdrawOfferAsync(new WithdrawOfferRequest { Name = offer.Name });
                }

                return new Target(priced.Name, Offer: offer.Name);
            case "delisted":
                var held = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
                await acme.ApproveAsync(await initech.RequestAsync(held));
                await acme.Catalog.DelistDatasetAsync(new DelistDatasetRequest { Name = held.Name });
                return new Target(held.Name);
        }

        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var request = await initech.RequestAsync(dataset);
        var target = new Target(dataset.Name, request.Name);
        switch (state)
        {
            case "pending":
                return target;
            case "approved" or "active":
                return target with { Grant = (await acme.ApproveAsync(request)).Name };
            case "rejected":
                await acme.Access.RejectAccessRequestAsync(new RejectAccessRequestRequest { Name = request.Name, Reason = "no" });
                return target;
            case "withdrawn":
                await initech.Access.WithdrawAccessRequestAsync(new WithdrawAccessRequestRequest { Name = request.Name });
                return target;
            case "compute":
                var rule = new AnalysisRule
                {
                    Dimensions = { "station" },
                    MinIdentities = 1,
                    Privacy = new DifferentialPrivacy { QueryEpsilonMillis = 100, BudgetEpsilonMillis = 10_000 },
                };
                await initech.Access.WithdrawAccessRequestAsync(new WithdrawAccessRequestRequest { Name = request.Name });
                var queries = await initech.RequestAsync(dataset, terms: new Terms { Kind = GrantKind.Compute, Analysis = rule });
                return target with { Request = queries.Name, Grant = (await acme.ApproveAsync(queries)).Name };
            case "revoked":
                var grant = await acme.ApproveAsync(request);
                await acme.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = grant.Name, Reason = "over" });
                return target with { Grant = grant.Name };
            case "transferred":
                var used = await acme.ApproveAsync(request);
                var (header, _, _) = await initech.DownloadAllAsync(used.Name);
                return target with { Grant = used.Name, Transfer = header.Transfer };
            default:
                throw new ArgumentOutOfRangeException(nameof(state), state, "no such state in the matrix");
        }
    }

    private static async Task<StatusCode> StatusOf(Func<Task> call)
    {
        try
        {
            await call();
            return StatusCode.OK;
        }
        catch (RpcException ex)
        {
            return ex.StatusCode;
        }
    }

    private static Timestamp NextYear => Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(365));

    private static Task Register(ExchangeClient c, Target t) =>
        c.Rights.RegisterRightAsync(new() { Parent = t.Dataset, Right = Rights.RightsFixture.Asked(RightKind.Holding) }).ResponseAsync;

    private static Task CreateOffer(ExchangeClient c, Target t) =>
        c.Pricing.CreateOfferAsync(new() { Parent = t.Dataset, Offer = new Offer { Kind = OfferKind.OneOff, Price = new Money { Currency = "EUR", AmountMinor = 1 } } })
            .ResponseAsync;

    private static Task Declare(ExchangeClient c, Target t) =>
        c.Lineage.DeclareDerivationAsync(new() { Dataset = t.Dataset, Sources = { new DerivationSource { Revision = t.Source, Grant = t.Grant } } }).ResponseAsync;

    private static Task Object(ExchangeClient c, Target t) => c.Rights.FileRightObjectionAsync(new() { Name = t.Right, Reason = "matrix" }).ResponseAsync;

    private static Task License(ExchangeClient c, Target t) =>
        c.Rights.LicenseRightAsync(new() { Name = t.Right, Licensee = "umbrella", Kind = RightKind.ProcessingUse }).ResponseAsync;

    private static Task Update(ExchangeClient c, Target t) =>
        c.Catalog.UpdateDatasetAsync(new() { Dataset = new() { Name = t.Dataset, Title = "renamed" }, UpdateMask = new FieldMask { Paths = { "title" } } }).ResponseAsync;

    private static Task Request(ExchangeClient c, Target t) =>
        c.Access.RequestAccessAsync(new() { Dataset = t.Dataset, Purpose = "research", RequestedTerms = new Terms { ExpireTime = Tomorrow } }).ResponseAsync;

    private static Task Approve(ExchangeClient c, Target t) => c.Access.ApproveAccessRequestAsync(new() { Name = t.Request }).ResponseAsync;

    private static Task Reject(ExchangeClient c, Target t) => c.Access.RejectAccessRequestAsync(new() { Name = t.Request, Reason = "no" }).ResponseAsync;

    private static Task Revoke(ExchangeClient c, Target t) => c.Access.RevokeGrantAsync(new() { Name = t.Grant, Reason = "over" }).ResponseAsync;

    private static Task CancelRenewal(ExchangeClient c, Target t) => c.Access.CancelGrantRenewalAsync(new() { Name = t.Grant }).ResponseAsync;

    private static async Task WatchBriefly(ExchangeClient c, Target t)
    {
        using var watch = c.Audit.WatchAuditEvents(new WatchAuditEventsRequest(), deadline: DateTime.UtcNow.AddMilliseconds(300));
        try
        {
            await watch.ResponseStream.MoveNext(CancellationToken.None);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.DeadlineExceeded)
        {
            // Watching without error until the deadline is success: the stream is open.
        }
    }

    private static Task Suspend(ExchangeClient c, Target t) =>
        c.Participants.SuspendParticipantAsync(new() { Name = t.Participant, Reason = "matrix" }).ResponseAsync;

    private static Task Reinstate(ExchangeClient c, Target t) => c.Participants.ReinstateParticipantAsync(new() { Name = t.Participant }).ResponseAsync;

    private static Task Upload(ExchangeClient c, Target t) => c.UploadAsync(t.Dataset, new MemoryStream([1, 2, 3]));

    private static Task Download(ExchangeClient c, Target t) => c.DownloadAllAsync(t.Grant);
}
