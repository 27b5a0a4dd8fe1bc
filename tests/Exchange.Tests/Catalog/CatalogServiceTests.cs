using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Exchange.Tests.Catalog;

public sealed class CatalogServiceTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
{
    [Fact]
    public async Task Provider_creates_a_draft_it_owns()
    {
        using var acme = Gateway.As(Participant.Acme);
        var dataset = new Dataset { Title = "Port traffic", Description = "AIS positions", Classification = Classification.Internal };
        dataset.Tags.Add(["shipping", "ais", "shipping"]);

        var created = (await acme.Catalog.CreateDatasetAsync(new CreateDatasetRequest { Dataset = dataset })).Dataset;

        Assert.Matches("^datasets/[a-z0-9]{12}$", created.Name);
        Assert.Equal("acme", created.Provider);
        Assert.Equal(DatasetState.Draft, created.State);
        Assert.Equal(["shipping", "ais"], created.Tags);
        Assert.Equal("", created.LatestRevision);
        Assert.NotNull(created.CreateTime);
        Assert.Equal(created.CreateTime, created.UpdateTime);
        var fetched = (await acme.Catalog.GetDatasetAsync(new GetDatasetRequest { Name = created.Name })).Dataset;
        Assert.Equal(created, fetched);
    }

    [Fact]
    public async Task Output_only_fields_given_on_create_are_ignored()
    {
        using var acme = Gateway.As(Participant.Acme);
        var dataset = new Dataset
        {
            Name = "datasets/chosen",
            Provider = "globex",
            State = DatasetState.Listed,
            Title = "t",
            Classification = Classification.Public,
            LatestRevision = "datasets/chosen/revisions/9",
        };

        var created = (await acme.Catalog.CreateDatasetAsync(new CreateDatasetRequest { Dataset = dataset })).Dataset;

        Assert.NotEqual("datasets/chosen", created.Name);
        Assert.Equal("acme", created.Provider);
        Assert.Equal(DatasetState.Draft, created.State);
        Assert.Equal("", created.LatestRevision);
    }

    [Theory]
    [InlineData("consumer")]
    [InlineData("auditor")]
    [InlineData("operator")]
    public async Task Only_providers_create_datasets(string role)
    {
        using var client = Gateway.ClientFor("someone", role);
        var dataset = new Dataset { Title = "x", Classification = Classification.Public };

        var error = await Rpc.FailsWith(StatusCode.PermissionDenied,
            client.Catalog.CreateDatasetAsync(new CreateDatasetRequest { Dataset = dataset }));
        Assert.Contains("provider", error.Status.Detail);
    }

    [Fact]
    public async Task A_caller_who_may_not_create_datasets_is_refused_whatever_it_sent()
    {
        using var client = Gateway.ClientFor("someone", "consumer");

        var error = await Rpc.FailsWith(StatusCode.PermissionDenied,
            client.Catalog.CreateDatasetAsync(new CreateDatasetRequest { RequestId = "has spaces" }));
        Assert.Contains("provider", error.Status.Detail);
    }

    public static TheoryData<string, Action<CreateDatasetRequest>, string> InvalidCreates => new()
    {
        { "no dataset", r => r.Dataset = null, "dataset is required" },
        { "no title", r => r.Dataset.Title = "", "title" },
        { "blank title", r => r.Dataset.Title = "   ", "title" },
        { "long title", r => r.Dataset.Title = new string('t', 201), "title" },
        { "long description", r => r.Dataset.Description = new string('d', 10_001), "description" },
        { "no classification", r => r.Dataset.Classification = Classification.Unspecified, "classification" },
        { "unknown classification", r => r.Dataset.Classification = (Classification)42, "classification" },
        { "uppercase tag", r => r.Dataset.Tags.Add("Weather"), "tag" },
        { "tag with space", r => r.Dataset.Tags.Add("open data"), "tag" },
        { "long tag", r => r.Dataset.Tags.Add(new string('a', 65)), "tag" },
        { "too many tags", r => r.Dataset.Tags.Add(Enumerable.Range(0, 33).Select(i => $"t{i}")), "at most 32" },
        { "bad request id", r => r.RequestId = "has spaces", "request_id" },
        { "long request id", r => r.RequestId = new string('r', 65), "request_id" },
        { "negative max transfers", r => r.Dataset.AutoApprovalTerms = new Terms { Purposes = { "research" }, MaxTransfers = -1 }, "max_transfers" },
        { "past expiry", r => r.Dataset.AutoApprovalTerms = new Terms { Purposes = { "research" }, ExpireTime = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-1)) }, "expire_time" },
        { "empty purpose", r => r.Dataset.AutoApprovalTerms = new Terms { Purposes = { "" } }, "purpose" },
        { "duplicate purpose", r => r.Dataset.AutoApprovalTerms = new Terms { Purposes = { "a", "a" } }, "twice" },
    };

    [Theory]
    [MemberData(nameof(InvalidCreates))]
    public async Task Invalid_create_is_refused_with_a_message_naming_the_field(string _, Action<CreateDatasetRequest> spoil, string expected)
    {
        using var acme = Gateway.As(Participant.Acme);
        var request = new CreateDatasetRequest { Dataset = new Dataset { Title = "ok", Classification = Classification.Public } };
        spoil(request);

        var error = await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Catalog.CreateDatasetAsync(request));
        Assert.Contains(expected, error.Status.Detail);
    }

    [Fact]
    public async Task A_retried_create_with_the_same_request_id_returns_the_first_dataset()
    {
        using var acme = Gateway.As(Participant.Acme);
        var requestId = Guid.NewGuid().ToString();
        var request = new CreateDatasetRequest
        {
            Dataset = new Dataset { Title = "Idempotent", Classification = Classification.Public },
            RequestId = requestId,
        };

        var first = (await acme.Catalog.CreateDatasetAsync(request)).Dataset;
        var retry = (await acme.Catalog.CreateDatasetAsync(request)).Dataset;
        Assert.Equal(first, retry);

        // The same id for a different request is a client bug, not a retry.
        request.Dataset.Title = "Something else";
        var error = await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Catalog.CreateDatasetAsync(request));
        Assert.Contains(requestId, error.Status.Detail);

        // Request ids are scoped to the caller: another provider's identical id creates its own dataset.
        using var globex = Gateway.As(Participant.Globex);
        request.Dataset.Title = "Idempotent";
        var theirs = (await globex.Catalog.CreateDatasetAsync(request)).Dataset;
        Assert.NotEqual(first.Name, theirs.Name);
        Assert.Equal("globex", theirs.Provider);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("datasets/")]
    [InlineData("datasets/ABC")]
    [InlineData("datasets/abc/revisions/1")]
    [InlineData("projects/x/datasets/abc")]
    public async Task Malformed_names_are_invalid_arguments(string name)
    {
        using var acme = Gateway.As(Participant.Acme);
        var error = await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Catalog.GetDatasetAsync(new GetDatasetRequest { Name = name }));
        Assert.Contains("datasets/", error.Status.Detail);
        await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = name }));
        await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Catalog.DelistDatasetAsync(new DelistDatasetRequest { Name = name }));
        await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Catalog.ListRevisionsAsync(new ListRevisionsRequest { Parent = name }));
    }

    [Fact]
    public async Task Another_providers_draft_is_not_found_exactly_like_a_missing_dataset()
    {
        using var acme = Gateway.As(Participant.Acme);
        using var globex = Gateway.As(Participant.Globex);
        var draft = await CatalogFixture.CreateAsync(acme);
        const string missing = "datasets/doesnotexist1";

        var hidden = await Rpc.FailsWith(StatusCode.NotFound, globex.Catalog.GetDatasetAsync(new GetDatasetRequest { Name = draft.Name }));
        var absent = await Rpc.FailsWith(StatusCode.NotFound, globex.Catalog.GetDatasetAsync(new GetDatasetRequest { Name = missing }));

        Assert.Equal(absent.Status.Detail.Replace(missing, "X"), hidden.Status.Detail.Replace(draft.Name, "X"));
        // Acting on it leaks nothing either: NOT_FOUND, not PERMISSION_DENIED.
        await Rpc.FailsWith(StatusCode.NotFound, globex.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = draft.Name }));
        await Rpc.FailsWith(StatusCode.NotFound, globex.Catalog.UpdateDatasetAsync(new UpdateDatasetRequest
        {
            Dataset = new Dataset { Name = draft.Name, Title = "mine now" },
            UpdateMask = new FieldMask { Paths = { "title" } },
        }));
        await Rpc.FailsWith(StatusCode.NotFound, globex.Catalog.ListRevisionsAsync(new ListRevisionsRequest { Parent = draft.Name }));
        await Rpc.FailsWith(StatusCode.NotFound, globex.Catalog.GetRevisionAsync(new GetRevisionRequest { Name = draft.Name + "/revisions/1" }));
    }

    public static TheoryData<DatasetState, string, bool> Visibility => new()
    {
        // state, caller, sees it
        { DatasetState.Draft, "acme", true },
        { DatasetState.Draft, "globex", false },
        { DatasetState.Draft, "initech", false },
        { DatasetState.Draft, "audit-co", false },
        { DatasetState.Draft, "ops", false },
        { DatasetState.Listed, "acme", true },
        { DatasetState.Listed, "globex", true },
        { DatasetState.Listed, "initech", true },
        { DatasetState.Listed, "audit-co", true },
        { DatasetState.Listed, "ops", true },
        { DatasetState.Delisted, "acme", true },
        { DatasetState.Delisted, "globex", false },
        { DatasetState.Delisted, "initech", false },
        { DatasetState.Delisted, "audit-co", true },
        { DatasetState.Delisted, "ops", true },
    };

    [Theory]
    [MemberData(nameof(Visibility))]
    public async Task Get_and_List_agree_on_who_sees_a_dataset_in_each_state(DatasetState state, string callerId, bool sees)
    {
        using var acme = Gateway.As(Participant.Acme);
        var tag = $"vis-{Guid.NewGuid():N}"[..20];
        var dataset = await CatalogFixture.CreateAsync(acme, state, tags: [tag]);
        var caller = new[] { Participant.Acme, Participant.Globex, Participant.Initech, Participant.Auditor, Participant.Operator }
            .Single(p => p.Id == callerId);
        using var client = Gateway.As(caller);

        var listed = await client.EnumerateDatasetsAsync(new ListDatasetsRequest { Tag = tag }).ToListAsync();
        if (sees)
        {
            var got = (await client.Catalog.GetDatasetAsync(new GetDatasetRequest { Name = dataset.Name })).Dataset;
            Assert.Equal(dataset, got);
            Assert.Equal([dataset.Name], listed.Select(d => d.Name));
        }
        else
        {
            await Rpc.FailsWith(StatusCode.NotFound, client.Catalog.GetDatasetAsync(new GetDatasetRequest { Name = dataset.Name }));
            Assert.Empty(listed);
        }
    }

    [Fact]
    public async Task Update_changes_only_the_masked_fields_and_only_for_the_owner()
    {
        using var acme = Gateway.As(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed, tags: ["a", "b"]);
        await Task.Delay(5);

        var update = new Dataset { Name = dataset.Name, Title = "Renamed", Description = "ignored: not in the mask" };
        var updated = (await acme.Catalog.UpdateDatasetAsync(new UpdateDatasetRequest
        {
            Dataset = update,
            UpdateMask = new FieldMask { Paths = { "title" } },
        })).Dataset;

        Assert.Equal("Renamed", updated.Title);
        Assert.Equal(dataset.Description, updated.Description);
        Assert.Equal(dataset.Tags, updated.Tags);
        Assert.Equal(DatasetState.Listed, updated.State);
        Assert.True(updated.UpdateTime.ToDateTimeOffset() > dataset.UpdateTime.ToDateTimeOffset());

        var retag = new Dataset { Name = dataset.Name };
        retag.Tags.Add(["c"]);
        var retagged = (await acme.Catalog.UpdateDatasetAsync(new UpdateDatasetRequest
        {
            Dataset = retag,
            UpdateMask = new FieldMask { Paths = { "tags" } },
        })).Dataset;
        Assert.Equal(["c"], retagged.Tags);

        // Seen but not owned: PERMISSION_DENIED.
        foreach (var other in new[] { Participant.Globex, Participant.Initech, Participant.Operator })
        {
            using var client = Gateway.As(other);
            await Rpc.FailsWith(StatusCode.PermissionDenied, client.Catalog.UpdateDatasetAsync(new UpdateDatasetRequest
            {
                Dataset = new Dataset { Name = dataset.Name, Title = "hijacked" },
                UpdateMask = new FieldMask { Paths = { "title" } },
            }));
        }

        var final = (await acme.Catalog.GetDatasetAsync(new GetDatasetRequest { Name = dataset.Name })).Dataset;
        Assert.Equal("Renamed", final.Title);
    }

    [Theory]
    [InlineData("state")]
    [InlineData("provider")]
    [InlineData("name")]
    [InlineData("nonsense")]
    public async Task Update_refuses_fields_that_cannot_be_updated(string path)
    {
        using var acme = Gateway.As(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme);

        var error = await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Catalog.UpdateDatasetAsync(new UpdateDatasetRequest
        {
            Dataset = new Dataset { Name = dataset.Name, State = DatasetState.Listed },
            UpdateMask = new FieldMask { Paths = { path } },
        }));
        Assert.Contains(path, error.Status.Detail);
    }

    [Fact]
    public async Task Update_with_an_empty_mask_replaces_every_updatable_field_and_validates_them()
    {
        using var acme = Gateway.As(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme, tags: ["old"]);

        await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Catalog.UpdateDatasetAsync(new UpdateDatasetRequest
        {
            Dataset = new Dataset { Name = dataset.Name, Title = "No classification given" },
        }));

        var replaced = (await acme.Catalog.UpdateDatasetAsync(new UpdateDatasetRequest
        {
            Dataset = new Dataset { Name = dataset.Name, Title = "All new", Classification = Classification.Sensitive },
        })).Dataset;
        Assert.Equal("All new", replaced.Title);
        Assert.Equal("", replaced.Description);
        Assert.Empty(replaced.Tags);
        Assert.Equal(Classification.Sensitive, replaced.Classification);
    }

    [Fact]
    public async Task Publishing_needs_a_revision()
    {
        using var acme = Gateway.As(Participant.Acme);
        var draft = await CatalogFixture.CreateAsync(acme);

        var error = await Rpc.FailsWith(StatusCode.FailedPrecondition, acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = draft.Name }));
        Assert.Contains("upload", error.Status.Detail);
    }

    [Fact]
    public async Task Publish_and_delist_follow_the_lifecycle()
    {
        using var acme = Gateway.As(Participant.Acme);
        var draft = await CatalogFixture.CreateAsync(acme, withRevision: true);
        var name = new DelistDatasetRequest { Name = draft.Name };

        var error = await Rpc.FailsWith(StatusCode.FailedPrecondition, acme.Catalog.DelistDatasetAsync(name));
        Assert.Contains("draft", error.Status.Detail);

        var listed = (await acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = draft.Name })).Dataset;
        Assert.Equal(DatasetState.Listed, listed.State);
        error = await Rpc.FailsWith(StatusCode.FailedPrecondition, acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = draft.Name }));
        Assert.Contains("already listed", error.Status.Detail);

        var delisted = (await acme.Catalog.DelistDatasetAsync(name)).Dataset;
        Assert.Equal(DatasetState.Delisted, delisted.State);
        error = await Rpc.FailsWith(StatusCode.FailedPrecondition, acme.Catalog.DelistDatasetAsync(name));
        Assert.Contains("already delisted", error.Status.Detail);

        var relisted = (await acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = draft.Name })).Dataset;
        Assert.Equal(DatasetState.Listed, relisted.State);
    }

    [Fact]
    public async Task Only_the_owner_publishes_and_only_the_owner_or_an_operator_delists()
    {
        using var acme = Gateway.As(Participant.Acme);
        var listed = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var delisted = await CatalogFixture.CreateAsync(acme, DatasetState.Delisted);

        foreach (var other in new[] { Participant.Globex, Participant.Initech, Participant.Auditor })
        {
            using var client = Gateway.As(other);
            await Rpc.FailsWith(StatusCode.PermissionDenied, client.Catalog.DelistDatasetAsync(new DelistDatasetRequest { Name = listed.Name }));
        }

        using var ops = Gateway.As(Participant.Operator);
        await Rpc.FailsWith(StatusCode.PermissionDenied, ops.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = delisted.Name }));
        using var auditor = Gateway.As(Participant.Auditor);
        await Rpc.FailsWith(StatusCode.PermissionDenied, auditor.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = delisted.Name }));

        var byOperator = (await ops.Catalog.DelistDatasetAsync(new DelistDatasetRequest { Name = listed.Name, Reason = "court order" })).Dataset;
        Assert.Equal(DatasetState.Delisted, byOperator.State);
        Assert.Equal("acme", byOperator.Provider);
    }

    [Fact]
    public async Task A_participant_without_the_provider_role_cannot_edit_even_its_own_dataset()
    {
        using var acme = Gateway.As(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme);
        using var acmeAsConsumer = Gateway.ClientFor("acme", "consumer");

        await Rpc.FailsWith(StatusCode.PermissionDenied, acmeAsConsumer.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name }));
    }

    [Fact]
    public async Task Revisions_of_a_visible_dataset_are_listed_oldest_first_and_every_participant_sees_them()
    {
        using var acme = Gateway.As(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var second = await acme.UploadAsync(dataset.Name, new MemoryStream("more"u8.ToArray()), new() { MediaType = "text/plain" });
        using var initech = Gateway.As(Participant.Initech);

        var revisions = await initech.Catalog.ListRevisionsAsync(new ListRevisionsRequest { Parent = dataset.Name, PageSize = 1 });
        Assert.Equal([dataset.Name + "/revisions/1"], revisions.Revisions.Select(r => r.Name));
        var rest = await initech.Catalog.ListRevisionsAsync(new ListRevisionsRequest { Parent = dataset.Name, PageSize = 1, PageToken = revisions.NextPageToken });
        Assert.Equal([second], rest.Revisions);
        Assert.Equal("", rest.NextPageToken);
        Assert.Equal(second.Name, (await initech.Catalog.GetDatasetAsync(new GetDatasetRequest { Name = dataset.Name })).Dataset.LatestRevision);
        var first = (await initech.Catalog.GetRevisionAsync(new GetRevisionRequest { Name = dataset.Name + "/revisions/1" })).Revision;
        Assert.Equal((CatalogFixture.SampleBytes.Length, "text/csv"), ((int)first.SizeBytes, first.MediaType));
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(CatalogFixture.SampleBytes), first.Sha256.ToByteArray());
        await Rpc.FailsWith(StatusCode.NotFound, initech.Catalog.GetRevisionAsync(new GetRevisionRequest { Name = dataset.Name + "/revisions/3" }));
        await Rpc.FailsWith(StatusCode.InvalidArgument, initech.Catalog.GetRevisionAsync(new GetRevisionRequest { Name = dataset.Name + "/revisions/0" }));
    }
}
