using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Tests.Catalog;

/// <summary>Paging and filters of ListDatasets, each test in its own exchange so counts are exact.</summary>
public sealed class ListDatasetsTests : IDisposable
{
    private readonly ExchangeFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Pages_cover_every_visible_dataset_once_in_a_stable_order()
    {
        using var acme = _factory.As(Participant.Acme);
        using var globex = _factory.As(Participant.Globex);
        var expected = new List<string>();
        for (var i = 0; i < 23; i++)
        {
            var owner = i % 2 == 0 ? acme : globex;
            expected.Add((await CatalogFixture.CreateAsync(owner, DatasetState.Listed, title: $"Set {i}")).Name);
            await CatalogFixture.CreateAsync(owner, DatasetState.Draft, title: $"Hidden {i}");
        }

        using var initech = _factory.As(Participant.Initech);
        var seen = new List<string>();
        var pages = 0;
        var request = new ListDatasetsRequest { PageSize = 5 };
        do
        {
            var page = await initech.Catalog.ListDatasetsAsync(request);
            Assert.True(page.Datasets.Count <= 5);
            seen.AddRange(page.Datasets.Select(d => d.Name));
            request.PageToken = page.NextPageToken;
            pages++;
        }
        while (request.PageToken != "");

        Assert.Equal(expected, seen);
        Assert.Equal(5, pages);

        // The SDK helper walks the same pages; a second walk gives the same order.
        var walked = await initech.EnumerateDatasetsAsync(new ListDatasetsRequest { PageSize = 7 }).Select(d => d.Name).ToListAsync();
        Assert.Equal(expected, walked);

        // Default page size is 50: everything fits in one page with no token.
        var all = await initech.Catalog.ListDatasetsAsync(new ListDatasetsRequest());
        Assert.Equal(expected, all.Datasets.Select(d => d.Name));
        Assert.Equal("", all.NextPageToken);

        // acme sees the 23 listed ones plus its own 12 drafts.
        Assert.Equal(35, await acme.EnumerateDatasetsAsync().CountAsync());
    }

    [Fact]
    public async Task A_page_ending_exactly_at_the_last_dataset_has_no_next_token()
    {
        using var acme = _factory.As(Participant.Acme);
        for (var i = 0; i < 4; i++)
        {
            await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        }

        var first = await acme.Catalog.ListDatasetsAsync(new ListDatasetsRequest { PageSize = 2 });
        var second = await acme.Catalog.ListDatasetsAsync(new ListDatasetsRequest { PageSize = 2, PageToken = first.NextPageToken });
        Assert.Equal(2, second.Datasets.Count);
        Assert.Equal("", second.NextPageToken);
    }

    [Fact]
    public async Task Negative_page_size_is_invalid()
    {
        using var acme = _factory.As(Participant.Acme);
        var error = await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Catalog.ListDatasetsAsync(new ListDatasetsRequest { PageSize = -1 }));
        Assert.Contains("page_size", error.Status.Detail);
    }

    [Fact]
    public async Task Page_tokens_cannot_be_forged_or_replayed_under_other_filters_or_by_another_caller()
    {
        using var acme = _factory.As(Participant.Acme);
        for (var i = 0; i < 3; i++)
        {
            await CatalogFixture.CreateAsync(acme, DatasetState.Listed, tags: ["x"]);
        }

        var token = (await acme.Catalog.ListDatasetsAsync(new ListDatasetsRequest { PageSize = 1, Tag = "x" })).NextPageToken;
        Assert.NotEqual("", token);

        var bytes = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(token);
        bytes[^20] ^= 0x01; // inside the position
        var tampered = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(bytes);

        foreach (var bad in new[] { tampered, "garbage", token + "A", token[..^2], "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" })
        {
            var error = await Rpc.FailsWith(StatusCode.InvalidArgument,
                acme.Catalog.ListDatasetsAsync(new ListDatasetsRequest { PageSize = 1, Tag = "x", PageToken = bad }));
            Assert.Contains("page_token", error.Status.Detail);
        }

        // Another filter, the same caller.
        await Rpc.FailsWith(StatusCode.InvalidArgument,
            acme.Catalog.ListDatasetsAsync(new ListDatasetsRequest { PageSize = 1, Tag = "y", PageToken = token }));
        // The same filter, another caller.
        using var initech = _factory.As(Participant.Initech);
        await Rpc.FailsWith(StatusCode.InvalidArgument,
            initech.Catalog.ListDatasetsAsync(new ListDatasetsRequest { PageSize = 1, Tag = "x", PageToken = token }));
        // The genuine token still works, and page size may change between pages.
        var next = await acme.Catalog.ListDatasetsAsync(new ListDatasetsRequest { PageSize = 5, Tag = "x", PageToken = token });
        Assert.Equal(2, next.Datasets.Count);
    }

    [Fact]
    public async Task Filters_narrow_the_results()
    {
        using var acme = _factory.As(Participant.Acme);
        using var globex = _factory.As(Participant.Globex);
        var weather = await CatalogFixture.CreateAsync(acme, DatasetState.Listed, "Weather Stations", "Hourly readings", Classification.Public, ["climate"]);
        var ships = await CatalogFixture.CreateAsync(acme, DatasetState.Listed, "Ship positions", "AIS feed, 100% coverage", Classification.Sensitive, ["maritime"]);
        var rain = await CatalogFixture.CreateAsync(globex, DatasetState.Listed, "Rainfall", "Daily totals", Classification.Internal, ["climate", "weather"]);
        var draft = await CatalogFixture.CreateAsync(acme, DatasetState.Draft, "Weather drafts", "", Classification.Public, ["climate"]);
        var gone = await CatalogFixture.CreateAsync(acme, DatasetState.Delisted, "Old weather", "", Classification.Core, ["climate"]);

        async Task<string[]> Names(ListDatasetsRequest request, Participant? who = null)
        {
            using var client = _factory.As(who ?? Participant.Initech);
            return await client.EnumerateDatasetsAsync(request).Select(d => d.Name).ToArrayAsync();
        }

        // Free text: title, description and tags, case-insensitively.
        Assert.Equal([weather.Name, rain.Name], await Names(new() { Query = "WEATHER" }));
        Assert.Equal([ships.Name], await Names(new() { Query = "ais feed" }));
        Assert.Equal([ships.Name], await Names(new() { Query = "marit" }));
        // LIKE wildcards in the text are literal.
        Assert.Equal([ships.Name], await Names(new() { Query = "100%" }));
        Assert.Equal([ships.Name], await Names(new() { Query = "%" }));
        Assert.Empty(await Names(new() { Query = "_" }));
        // Exact tag.
        Assert.Equal([weather.Name, rain.Name], await Names(new() { Tag = "climate" }));
        Assert.Empty(await Names(new() { Tag = "clim" }));
        // Provider, classification, state.
        Assert.Equal([rain.Name], await Names(new() { Provider = "globex" }));
        Assert.Equal([ships.Name], await Names(new() { Classification = Classification.Sensitive }));
        Assert.Equal([draft.Name], await Names(new() { State = DatasetState.Draft }, Participant.Acme));
        Assert.Empty(await Names(new() { State = DatasetState.Draft }, Participant.Globex));
        Assert.Equal([gone.Name], await Names(new() { State = DatasetState.Delisted }, Participant.Auditor));
        Assert.Empty(await Names(new() { State = DatasetState.Delisted }));
        // Combined.
        Assert.Equal([weather.Name, draft.Name, gone.Name], await Names(new() { Query = "weather", Provider = "acme" }, Participant.Acme));
        Assert.Equal([rain.Name], await Names(new() { Tag = "climate", Classification = Classification.Internal }));
    }

    [Theory]
    [InlineData("tag", "Not A Tag")]
    [InlineData("provider", "Not/A/Participant")]
    [InlineData("classification", "99")]
    [InlineData("state", "99")]
    [InlineData("query", "201")]
    public async Task Malformed_filters_are_invalid_arguments(string filter, string value)
    {
        var request = new ListDatasetsRequest();
        switch (filter)
        {
            case "tag": request.Tag = value; break;
            case "provider": request.Provider = value; break;
            case "classification": request.Classification = (Classification)int.Parse(value); break;
            case "state": request.State = (DatasetState)int.Parse(value); break;
            case "query": request.Query = new string('q', int.Parse(value)); break;
        }

        using var acme = _factory.As(Participant.Acme);
        var error = await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Catalog.ListDatasetsAsync(request));
        Assert.Contains(filter, error.Status.Detail);
    }
}
