using Exchange.Client;
using Exchange.Tests.Access;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.Tests.Rights;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Tests.Lineage;

/// <summary>
/// Derived datasets: declared only under a grant of one's own that allows derivation; served as a
/// graph up and down; flagged, with their descendants, when a source grant is revoked or a source
/// right cancelled; downloadable after that only if the source's terms say so.
/// </summary>
public sealed class LineageTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
{
    /// <summary>A provider that also buys data: it derives datasets from what it receives.</summary>
    private static readonly Participant Labs = new("acme-labs", "provider", "consumer");

    /// <summary>A second one, deriving from Labs' product.</summary>
    private static readonly Participant Studio = new("studio", "provider", "consumer");

    private static Terms Derivable(bool survive = false) =>
        new() { Purposes = { "research" }, Derivation = new DerivationTerms { Allowed = true, DescendantsSurviveRevocation = survive } };

    [Fact]
    public async Task A_derivation_needs_an_active_grant_of_ones_own_whose_terms_allow_it()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var labs = Gateway.As(Labs);
        using var initech = Gateway.As(Participant.Initech);
        var source = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var derived = await CatalogFixture.CreateAsync(labs, withRevision: true);
        var revision = source.Name + "/revisions/1";

        var plain = await acme.ApproveAsync(await labs.RequestAsync(source, terms: new Terms { Purposes = { "research" } }));
        var refused = await Rpc.FailsWith(StatusCode.FailedPrecondition, Declare(labs, derived.Name, revision, plain.Name));
        Assert.Contains("do not allow derivation", refused.Status.Detail, StringComparison.Ordinal);

        // An approval may not allow derivation the request did not ask for, and may drop it when it did.
        var asked = await labs.RequestAsync(source, terms: new Terms { Purposes = { "research" } });
        await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Access.ApproveAccessRequestAsync(new() { Name = asked.Name, Terms = Derivable() }));
        await labs.Access.WithdrawAccessRequestAsync(new() { Name = asked.Name });
        var dropped = await acme.ApproveAsync(await labs.RequestAsync(source, terms: Derivable()),
            new Terms { Derivation = new DerivationTerms { Allowed = false } });
        await Rpc.FailsWith(StatusCode.FailedPrecondition, Declare(labs, derived.Name, revision, dropped.Name));

        var grant = await acme.ApproveAsync(await labs.RequestAsync(source, terms: Derivable()));
        // Someone else's grant, a revision of another dataset, a dataset one does not provide, a revoked grant.
        var theirs = await acme.ApproveAsync(await initech.RequestAsync(source, terms: Derivable()));
        await Rpc.FailsWith(StatusCode.NotFound, Declare(labs, derived.Name, revision, theirs.Name));
        await Rpc.FailsWith(StatusCode.InvalidArgument, Declare(labs, derived.Name, derived.Name + "/revisions/1", grant.Name));
        var foreign = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        await Rpc.FailsWith(StatusCode.PermissionDenied, Declare(labs, foreign.Name, revision, grant.Name));
        await Rpc.FailsWith(StatusCode.NotFound, Declare(labs, derived.Name, source.Name + "/revisions/9", grant.Name));
        await acme.Access.RevokeGrantAsync(new() { Name = theirs.Name, Reason = "over" });

        var declared = (await labs.Lineage.DeclareDerivationAsync(new()
        {
            Dataset = derived.Name,
            Sources = { new DerivationSource { Revision = revision, Grant = grant.Name } },
        })).Derivations.Single();
        Assert.Equal(derived.Name, declared.Dataset);
        Assert.Equal(revision, declared.SourceRevision);
        Assert.Equal(DerivationState.Active, declared.State);
        Assert.Equal(LineageStatus.Clear, (await labs.Catalog.GetDatasetAsync(new() { Name = derived.Name })).Dataset.LineageStatus);
        await Rpc.FailsWith(StatusCode.AlreadyExists, Declare(labs, derived.Name, revision, grant.Name));

        // The source's provider is told, in its own view of the log.
        var told = (await acme.Audit.ListAuditEventsAsync(new() { Action = "lineage.derive", PageSize = 1000 })).Events;
        Assert.Contains(told, e => e.Resource == declared.Name && e.Subject == "acme" && e.Actor == Labs.Id);

    }

    [Fact]
    public async Task A_dataset_cannot_be_declared_derived_from_its_own_descendant()
    {
        using var labs = Gateway.As(Labs);
        using var studio = Gateway.As(Studio);
        var upstream = await CatalogFixture.CreateAsync(studio, DatasetState.Listed);
        var derived = await CatalogFixture.CreateAsync(labs, withRevision: true);
        var grant = await studio.ApproveAsync(await labs.RequestAsync(upstream, terms: Derivable()));
        await Declare(labs, derived.Name, upstream.Name + "/revisions/1", grant.Name);

        var back = await labs.ApproveAsync(await studio.RequestAsync(await Publish(labs, derived), terms: Derivable()));
        var cycle = await Rpc.FailsWith(StatusCode.FailedPrecondition, Declare(studio, upstream.Name, derived.Name + "/revisions/1", back.Name));
        Assert.Contains("its own source", cycle.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Revoking_a_source_grant_flags_every_descendant_tells_their_providers_and_stops_downloads_unless_the_terms_let_them_survive()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var labs = Gateway.As(Labs);
        using var studio = Gateway.As(Studio);
        using var initech = Gateway.As(Participant.Initech);
        using var auditor = Gateway.As(Participant.Auditor);

        // acme's source → labs' product (under a grant whose descendants do not survive) → studio's product.
        var source = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var product = await CatalogFixture.CreateAsync(labs, withRevision: true);
        var grant = await acme.ApproveAsync(await labs.RequestAsync(source, terms: Derivable()));
        await Declare(labs, product.Name, source.Name + "/revisions/1", grant.Name);
        product = await Publish(labs, product);
        var onward = await CatalogFixture.CreateAsync(studio, withRevision: true);
        var studioGrant = await labs.ApproveAsync(await studio.RequestAsync(product, terms: Derivable()));
        await Declare(studio, onward.Name, product.Name + "/revisions/1", studioGrant.Name);
        onward = await Publish(studio, onward);

        // The graph, both ways from the middle, and up from the bottom to a depth.
        var graph = await labs.Lineage.GetLineageAsync(new() { Dataset = product.Name });
        Assert.Equal([product.Name, source.Name, onward.Name], graph.Nodes.Select(n => n.Dataset));
        Assert.Equal(2, graph.Derivations.Count);
        var up = await studio.Lineage.GetLineageAsync(new() { Dataset = onward.Name, Direction = LineageDirection.Up, Depth = 1 });
        Assert.Equal([onward.Name, product.Name], up.Nodes.Select(n => n.Dataset));

        var buyer = await studio.ApproveAsync(await initech.RequestAsync(onward));
        await initech.DownloadAllAsync(buyer.Name);

        await acme.Access.RevokeGrantAsync(new() { Name = grant.Name, Reason = "licence fee unpaid" });
        foreach (var (client, dataset) in new[] { (labs, product), (studio, onward) })
        {
            var flagged = (await client.Catalog.GetDatasetAsync(new() { Name = dataset.Name })).Dataset;
            Assert.Equal(LineageStatus.Flagged, flagged.LineageStatus);
            Assert.Contains(grant.Name, flagged.LineageReason, StringComparison.Ordinal);
            Assert.Contains("licence fee unpaid", flagged.LineageReason, StringComparison.Ordinal);
        }

        var flags = (await auditor.Audit.ListAuditEventsAsync(new() { Action = "lineage.flag", PageSize = 1000 })).Events
            .Where(e => e.Resource == product.Name || e.Resource == onward.Name).Select(e => (e.Resource, e.Subject)).ToList();
        Assert.Equal([(product.Name, Labs.Id), (onward.Name, Studio.Id)], flags);
        Assert.Contains((await studio.Audit.ListAuditEventsAsync(new() { Action = "lineage.flag", PageSize = 1000 })).Events, e => e.Resource == onward.Name);

        var stopped = await Rpc.FailsWith(StatusCode.PermissionDenied, () => initech.DownloadAllAsync(buyer.Name));
        Assert.Contains("derived from data whose grant or right has ended", stopped.Status.Detail, StringComparison.Ordinal);
        Assert.All((await labs.Lineage.GetLineageAsync(new() { Dataset = product.Name })).Derivations,
            d => Assert.Equal(DerivationState.Flagged, d.State));
    }

    [Fact]
    public async Task Descendants_stay_downloadable_when_the_source_terms_say_so_and_a_cancelled_source_right_flags_them_too()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var labs = Gateway.As(Labs);
        using var initech = Gateway.As(Participant.Initech);
        using var ops = Gateway.As(Participant.Operator);
        var source = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var holding = await acme.ApprovedAsync(ops, source.Name, RightKind.Holding);
        var product = await CatalogFixture.CreateAsync(labs, withRevision: true);
        var grant = await acme.ApproveAsync(await labs.RequestAsync(source, terms: Derivable(survive: true)));
        await Declare(labs, product.Name, source.Name + "/revisions/1", grant.Name);
        product = await Publish(labs, product);
        var buyer = await labs.ApproveAsync(await initech.RequestAsync(product));

        await ops.Rights.CancelRightAsync(new() { Name = holding.Name, Reason = "court order 17" });
        var flagged = (await labs.Catalog.GetDatasetAsync(new() { Name = product.Name })).Dataset;
        Assert.Equal(LineageStatus.Flagged, flagged.LineageStatus);
        Assert.Contains(holding.Name, flagged.LineageReason, StringComparison.Ordinal);
        var (_, bytes, _) = await initech.DownloadAllAsync(buyer.Name);
        Assert.Equal(CatalogFixture.SampleBytes, bytes);
    }

    [Fact]
    public async Task A_dataset_derived_twice_is_stopped_by_the_path_that_stops_it_and_so_is_everything_below_it_whenever_it_is_declared()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var labs = Gateway.As(Labs);
        using var studio = Gateway.As(Studio);
        using var initech = Gateway.As(Participant.Initech);

        // labs' product is derived from acme's source under two grants: one whose descendants survive, one whose do not.
        var source = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var product = await CatalogFixture.CreateAsync(labs, withRevision: true);
        var lenient = await acme.ApproveAsync(await labs.RequestAsync(source, terms: Derivable(survive: true)));
        var strict = await acme.ApproveAsync(await labs.RequestAsync(source, "forecasting", new Terms
        {
            Purposes = { "forecasting" },
            Derivation = new DerivationTerms { Allowed = true },
        }));
        await Declare(labs, product.Name, source.Name + "/revisions/1", lenient.Name);
        await Declare(labs, product.Name, source.Name + "/revisions/1", strict.Name);
        product = await Publish(labs, product);
        var onward = await CatalogFixture.CreateAsync(studio, withRevision: true);
        var studioGrant = await labs.ApproveAsync(await studio.RequestAsync(product, terms: Derivable(survive: true)));
        await Declare(studio, onward.Name, product.Name + "/revisions/1", studioGrant.Name);
        onward = await Publish(studio, onward);
        var buyer = await studio.ApproveAsync(await initech.RequestAsync(onward));

        // The lenient grant ends first: flagged, still downloadable; then the strict one: stopped, below too.
        await acme.Access.RevokeGrantAsync(new() { Name = lenient.Name, Reason = "first" });
        Assert.Equal(LineageStatus.Flagged, (await studio.Catalog.GetDatasetAsync(new() { Name = onward.Name })).Dataset.LineageStatus);
        await initech.DownloadAllAsync(buyer.Name);
        await acme.Access.RevokeGrantAsync(new() { Name = strict.Name, Reason = "second" });
        await Rpc.FailsWith(StatusCode.PermissionDenied, () => initech.DownloadAllAsync(buyer.Name));

        // Derived later from the stopped product: flagged and stopped from the start.
        var late = await CatalogFixture.CreateAsync(studio, withRevision: true);
        var lateGrant = await labs.ApproveAsync(await studio.RequestAsync(product, "teaching", new Terms
        {
            Purposes = { "teaching" },
            Derivation = new DerivationTerms { Allowed = true, DescendantsSurviveRevocation = true },
        }));
        await Declare(studio, late.Name, product.Name + "/revisions/1", lateGrant.Name);
        var inherited = (await studio.Catalog.GetDatasetAsync(new() { Name = late.Name })).Dataset;
        Assert.Equal(LineageStatus.Flagged, inherited.LineageStatus);
        Assert.StartsWith("upstream", inherited.LineageReason, StringComparison.Ordinal);
        var lateBuyer = await studio.ApproveAsync(await initech.RequestAsync(await Publish(studio, late)));
        await Rpc.FailsWith(StatusCode.PermissionDenied, () => initech.DownloadAllAsync(lateBuyer.Name));
    }

    [Fact]
    public async Task The_graph_shows_an_edge_to_whom_it_concerns_and_everyone_once_the_derived_dataset_is_listed()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var labs = Gateway.As(Labs);
        using var globex = Gateway.As(Participant.Globex);
        var source = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var draft = await CatalogFixture.CreateAsync(labs, withRevision: true);
        var grant = await acme.ApproveAsync(await labs.RequestAsync(source, terms: Derivable()));
        await Declare(labs, draft.Name, source.Name + "/revisions/1", grant.Name);

        Assert.Empty((await globex.Lineage.GetLineageAsync(new() { Dataset = source.Name })).Derivations);
        var toSource = await acme.Lineage.GetLineageAsync(new() { Dataset = source.Name, Direction = LineageDirection.Down });
        Assert.Equal(draft.Name, toSource.Derivations.Single().Dataset);
        Assert.Equal("", toSource.Nodes.Single(n => n.Dataset == draft.Name).Title);
        await Rpc.FailsWith(StatusCode.NotFound, globex.Lineage.GetLineageAsync(new() { Dataset = draft.Name }));

        await Publish(labs, draft);
        Assert.Single((await globex.Lineage.GetLineageAsync(new() { Dataset = source.Name })).Derivations);
    }

    [Fact]
    public async Task Revoking_a_source_grant_stops_a_running_download_of_the_derived_dataset_at_once()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var labs = Gateway.As(Labs);
        using var initech = Gateway.As(Participant.Initech);
        var source = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var product = await CatalogFixture.CreateAsync(labs);
        await labs.UploadAsync(product.Name, new MemoryStream(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16 * 1024 * 1024)));
        var grant = await acme.ApproveAsync(await labs.RequestAsync(source, terms: Derivable()));
        await Declare(labs, product.Name, source.Name + "/revisions/1", grant.Name);
        product = await Publish(labs, product);
        var buyer = await labs.ApproveAsync(await initech.RequestAsync(product));

        // initech is in the middle of the product, under a grant of its own, when the product's source grant ends.
        using var call = initech.Transfers.Download(new DownloadRequest { Grant = buyer.Name, Purpose = "research" });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var transfer = call.ResponseStream.Current.Header.Transfer;
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        await acme.Access.RevokeGrantAsync(new() { Name = grant.Name, Reason = "licence fee unpaid" });

        var failed = await initech.WaitForTransferAsync(transfer, TransferState.Failed);
        Assert.Equal("stopped by lineage", failed.FailureReason);
        var error = await call.EndsWithoutTrailerAsync();
        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("derived from data whose grant or right ended during the download", error.Status.Detail, StringComparison.Ordinal);
    }

    private static AsyncUnaryCall<DeclareDerivationResponse> Declare(ExchangeClient client, string dataset, string revision, string grant) =>
        client.Lineage.DeclareDerivationAsync(new() { Dataset = dataset, Sources = { new DerivationSource { Revision = revision, Grant = grant } } });

    private static async Task<Dataset> Publish(ExchangeClient provider, Dataset dataset) =>
        (await provider.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name })).Dataset;
}
