using Exchange.Tests.Audit;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Google.Protobuf;
using Microsoft.Data.Sqlite;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Exchange.Tests.WebConsole;

/// <summary>
/// The console in a real Chromium against the real gateway (issue 21): an auditor filters the
/// log and sees an event verified in the browser; a tampered database row turns the page red at
/// its index; a provider approves a request with narrowed terms; a consumer sees only its own
/// grants, verifies a receipt and cancels a subscription's renewal. Each test fails on any browser console error, and saves a
/// screenshot of the pages it visits (artifacts/console-screenshots).
/// </summary>
[Trait("Category", "Slow")]
public sealed class ConsoleTests(ConsoleFixture fixture, ITestOutputHelper output) : IClassFixture<ConsoleFixture>
{
    private Uri Address => fixture.Gateway!.Address;

    [SkippableFact]
    public async Task An_auditor_signs_in_filters_the_log_and_sees_an_event_verified_in_the_browser()
    {
        Chromium.Require();
        await using var tab = await ConsolePage.OpenAsync(fixture.Browser!, Address);
        var page = tab.Page;
        await page.GotoAsync(tab.Base.ToString());
        await tab.ScreenshotAsync("sign-in");
        await tab.SignInAsync(Participant.Auditor);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Audit log", Level = 1 })).ToBeVisibleAsync();

        await tab.PinKeyAsync(fixture.VerifierKey);
        await page.GetByLabel("Action", new() { Exact = true }).FillAsync("access.approve");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show events" }).ClickAsync();

        using var auditor = fixture.Gateway!.Client(Participant.Auditor);
        var approvals = (await auditor.AllEventsAsync(new ListAuditEventsRequest { Action = "access.approve" })).Count;
        Assert.True(approvals >= 2, $"{approvals} approvals");
        var rows = page.Locator("table.events tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(approvals);
        await Assertions.Expect(page.Locator("table.events tbody tr.verified")).ToHaveCountAsync(approvals);
        foreach (var action in await page.Locator("table.events tbody tr td:nth-child(4)").AllTextContentsAsync())
        {
            Assert.Equal("access.approve", action);
        }

        await Assertions.Expect(page.GetByTestId("summary")).ToContainTextAsync($"{approvals} verified in this browser");
        await Assertions.Expect(page.GetByTestId("checkpoint")).ToContainTextAsync("signed by the pinned key");
        await tab.ScreenshotAsync("audit");

        await rows.First.GetByRole(AriaRole.Button).ClickAsync();
        var verdict = page.GetByTestId("event-verdict");
        await Assertions.Expect(verdict).ToContainTextAsync("✓ verified");
        await Assertions.Expect(verdict).ToContainTextAsync("is in the checkpoint of size");
        await Assertions.Expect(verdict).ToContainTextAsync("checked in this browser");
        await Assertions.Expect(page.Locator("#detail-heading")).ToBeFocusedAsync();
        await tab.ScreenshotAsync("audit-event");

        // Unfiltered, every event of the first page verifies too; nothing is red.
        await page.GetByLabel("Action", new() { Exact = true }).FillAsync("");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show events" }).ClickAsync();
        var all = (await auditor.Audit.ListAuditEventsAsync(new ListAuditEventsRequest { PageSize = 50 })).Events.Count;
        await Assertions.Expect(page.Locator("table.events tbody tr.verified")).ToHaveCountAsync(all);
        await Assertions.Expect(page.GetByTestId("alarm")).ToHaveCountAsync(0);

        await tab.GoAsync("charts", "Charts");
        await Assertions.Expect(page.Locator("figure.chart svg")).ToHaveCountAsync(4);
        await tab.ScreenshotAsync("charts");

        // 360 px wide: nothing sticks out sideways (wide tables scroll inside their own region).
        await page.SetViewportSizeAsync(360, 800);
        await tab.GoAsync("audit", "Audit log");
        await Assertions.Expect(page.Locator("table.events tbody tr.verified").First).ToBeVisibleAsync();
        await tab.ScreenshotAsync("audit-360px");
        var wide = await page.EvaluateAsync<string[]>(
            "() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 361 && !e.closest('.scroll')).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))");
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= 360"), "the audit page is wider than 360 px: " + string.Join(", ", wide));
        tab.AssertNoErrors();
    }

    [SkippableFact]
    public async Task An_auditor_follows_the_log_live_and_sees_new_events_verified()
    {
        Chromium.Require();
        await using var tab = await ConsolePage.OpenAsync(fixture.Browser!, Address);
        await tab.SignInAsync(Participant.Auditor);
        await tab.PinKeyAsync(fixture.VerifierKey);
        var page = tab.Page;
        await Assertions.Expect(page.Locator("table.events tbody tr.verified").First).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Start live tail" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("tail-status")).ToContainTextAsync("Following the log");

        using var acme = fixture.Gateway!.Client(Participant.Acme);
        var created = await acme.CreateDatasetAsync(new Dataset { Title = "Arrived while watching", Classification = Classification.Internal });
        var row = page.Locator("table.tail tbody tr", new() { HasText = created.Name });
        await Assertions.Expect(row).ToContainTextAsync("dataset.create");
        await Assertions.Expect(row).ToHaveClassAsync("verified");
        // Verifying it took a newer checkpoint, tied to the first by a consistency proof checked in the page.
        await page.GetByText("History in this session").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Region, new() { Name = "Checkpoint history" })).ToContainTextAsync("consistent with size");
        await Assertions.Expect(page.GetByTestId("alarm")).ToHaveCountAsync(0);
        await tab.ScreenshotAsync("audit-live");
        await page.GetByRole(AriaRole.Button, new() { Name = "Stop live tail" }).ClickAsync();
        tab.AssertNoErrors();
    }

    [SkippableFact]
    public async Task A_tampered_database_row_turns_the_page_red_at_its_index()
    {
        var chromium = Chromium.Require();
        var data = Path.Combine(Path.GetTempPath(), "exchange-console", Guid.NewGuid().ToString("N"));
        await using var gateway = await ConsoleFixture.StartGatewayAsync(data, output.WriteLine);
        try
        {
            using (var acme = gateway.Client(Participant.Acme))
            {
                for (var i = 0; i < 5; i++)
                {
                    await acme.CreateDatasetAsync(new Dataset { Title = $"Dataset {i}", Classification = Classification.Public });
                }
            }

            using var auditor = gateway.Client(Participant.Auditor);
            await auditor.CheckpointCoveringAsync(5);
            var key = (await auditor.PublishedLogKeyAsync()).Encoded;

            // The operator (or an intruder) edits event 2 in the database: the actor, in the row and in its leaf.
            using (var connection = new SqliteConnection($"Data Source={Path.Combine(data, "exchange.db")};Pooling=False"))
            {
                connection.Open();
                using var read = connection.CreateCommand();
                read.CommandText = "SELECT leaf FROM audit_events WHERE idx = 2";
                var record = AuditRecord.Parser.ParseFrom((byte[])read.ExecuteScalar()!);
                record.Actor = "mallory";
                using var write = connection.CreateCommand();
                write.CommandText = "PRAGMA busy_timeout = 10000; UPDATE audit_events SET leaf = @leaf, actor = 'mallory' WHERE idx = 2";
                write.Parameters.AddWithValue("@leaf", record.ToByteArray());
                Assert.Equal(1, write.ExecuteNonQuery());
            }

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await ConsoleFixture.LaunchAsync(playwright, chromium);
            await using var tab = await ConsolePage.OpenAsync(browser, gateway.Address);
            await tab.SignInAsync(Participant.Auditor);
            await tab.PinKeyAsync(key);

            var page = tab.Page;
            var alarm = page.GetByTestId("alarm");
            await Assertions.Expect(alarm).ToBeVisibleAsync();
            await Assertions.Expect(alarm).ToContainTextAsync("Event 2 does not verify");
            await Assertions.Expect(page.Locator("table.events tbody tr[data-index='2']")).ToHaveClassAsync("failed");
            await Assertions.Expect(page.Locator("table.events tbody tr[data-index='2']")).ToContainTextAsync("mallory");
            await Assertions.Expect(page.Locator("table.events tbody tr[data-index='2']")).ToContainTextAsync("✗ FAILED");
            // The others still verify: the page names the one that does not.
            await Assertions.Expect(page.Locator("table.events tbody tr.verified")).ToHaveCountAsync(4);
            await tab.ScreenshotAsync("audit-tampered");
            tab.AssertNoErrors();
        }
        finally
        {
            await gateway.KillAsync();
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }

    [SkippableFact]
    public async Task With_an_OIDC_authority_an_auditor_signs_in_by_authorization_code_with_PKCE()
    {
        var chromium = Chromium.Require();
        await using var authority = new LoopbackAuthority("exchange-console", "oidc-auditor", "auditor");
        await authority.StartAsync();
        var data = Path.Combine(Path.GetTempPath(), "exchange-console", Guid.NewGuid().ToString("N"));
        await using var gateway = new GatewayProcess(data, output.WriteLine,
            $"--Exchange:Auth:Authority={authority.Issuer}", "--Exchange:Console:ClientId=exchange-console",
            $"--Exchange:Auth:Participants:oidc-auditor={authority.Issuer}");
        // The gateway fetches the authority's keys over TLS from a dev-CA certificate.
        gateway.Environment["SSL_CERT_FILE"] = GatewayProcess.CaFile;
        try
        {
            await gateway.StartAsync();
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await ConsoleFixture.LaunchAsync(playwright, chromium);
            await using var tab = await ConsolePage.OpenAsync(browser, gateway.Address);
            var page = tab.Page;
            await page.GotoAsync(tab.Base.ToString());
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in with 127.0.0.1" }).ClickAsync();

            await Assertions.Expect(page.Locator("header .who")).ToContainTextAsync("oidc-auditor");
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Audit log", Level = 1 })).ToBeVisibleAsync();
            Assert.StartsWith(new Uri(tab.Base, "audit").ToString(), page.Url, StringComparison.Ordinal);
            // The gateway took the authority's token: the log's first page came back.
            await Assertions.Expect(page.GetByTestId("summary")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("p.error")).ToHaveCountAsync(0);
            Assert.Equal(1, authority.TokensIssued);
            // The token is in the tab's sessionStorage only: nothing in localStorage, no cookie.
            Assert.Equal(0, await page.EvaluateAsync<int>("() => localStorage.length"));
            Assert.True(await page.EvaluateAsync<bool>("() => sessionStorage.getItem('exchange.token') !== null"));
            Assert.Empty(await page.Context.CookiesAsync());
            tab.AssertNoErrors();
        }
        finally
        {
            await gateway.KillAsync();
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }

    [SkippableFact]
    public async Task A_provider_approves_a_request_with_narrowed_terms()
    {
        Chromium.Require();
        await using var tab = await ConsolePage.OpenAsync(fixture.Browser!, Address);
        await tab.SignInAsync(Participant.Acme);
        var page = tab.Page;
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Provider", Level = 1 })).ToBeVisibleAsync();

        var request = page.Locator($"article[data-request='{fixture.PendingRequest}']");
        await Assertions.Expect(request).ToContainTextAsync("initech asks for Weather stations 2025");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Your datasets" })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("table caption").First).ToContainTextAsync("Schema and quality");
        await tab.ScreenshotAsync("provider");

        await request.GetByLabel("teaching", new() { Exact = true }).UncheckAsync();
        await request.GetByLabel("Max transfers").FillAsync("3");
        await request.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("message")).ToContainTextAsync($"Approved {fixture.PendingRequest}");
        await Assertions.Expect(page.GetByTestId("message")).ToContainTextAsync("purposes: research; max transfers: 3");
        await Assertions.Expect(request).ToHaveCountAsync(0);

        using var acme = fixture.Gateway!.Client(Participant.Acme);
        var approved = (await acme.Access.GetAccessRequestAsync(new GetAccessRequestRequest { Name = fixture.PendingRequest })).AccessRequest;
        Assert.Equal(AccessRequestState.Approved, approved.State);
        var grant = await acme.GetGrantAsync(approved.Grant);
        Assert.Equal(["research"], grant.Terms.Purposes);
        Assert.Equal(3, grant.Terms.MaxTransfers);
        await Assertions.Expect(page.Locator($"tr[data-grant='{grant.Name}']")).ToContainTextAsync("initech");
        tab.AssertNoErrors();
    }

    [SkippableFact]
    public async Task A_consumer_sees_only_its_own_grants_and_verifies_a_receipt_in_the_browser()
    {
        Chromium.Require();
        await using var tab = await ConsolePage.OpenAsync(fixture.Browser!, Address);
        await tab.SignInAsync(Participant.Initech);
        var page = tab.Page;
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Consumer", Level = 1 })).ToBeVisibleAsync();

        using var initech = fixture.Gateway!.Client(Participant.Initech);
        var own = (await initech.Access.ListGrantsAsync(new ListGrantsRequest())).Grants.Select(g => g.Name).ToHashSet();
        Assert.Contains(fixture.InitechGrant, own);
        await Assertions.Expect(page.Locator($"article[data-grant='{fixture.InitechGrant}']")).ToBeVisibleAsync();
        var shown = await page.Locator("article[data-grant]").EvaluateAllAsync<string[]>("cards => cards.map(c => c.dataset.grant)");
        Assert.Equal(own.Order(), shown.Order());
        Assert.DoesNotContain(fixture.UmbrellaGrant, shown);
        await Assertions.Expect(page.Locator($"article[data-grant='{fixture.InitechGrant}'] pre")).ToContainTextAsync($"download {fixture.InitechGrant} --purpose research");

        // The catalog: search narrows it.
        await page.GetByLabel("Search", new() { Exact = true }).FillAsync("port");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await Assertions.Expect(page.Locator("#catalog-heading ~ article")).ToHaveCountAsync(1);

        await tab.PinKeyAsync(fixture.VerifierKey);
        var transfer = page.Locator($"tr[data-transfer='{fixture.InitechTransfer}']");
        await transfer.GetByRole(AriaRole.Button, new() { Name = $"Verify the receipt of {fixture.InitechTransfer}" }).ClickAsync();
        await Assertions.Expect(transfer).ToContainTextAsync("✓ verified");
        await Assertions.Expect(transfer.GetByTestId("receipt")).ToContainTextAsync($"{fixture.InitechTransfer} is audit event");
        await tab.ScreenshotAsync("consumer");
        tab.AssertNoErrors();
    }

    [Fact]
    public async Task A_consumer_cancels_its_subscriptions_renewal_and_sees_when_its_grant_ends()
    {
        Chromium.Require();
        using var acme = fixture.Gateway!.Client(Participant.Acme);
        using var initech = fixture.Gateway!.Client(Participant.Initech);
        var dataset = (await acme.Catalog.CreateDatasetAsync(new CreateDatasetRequest
        {
            Dataset = new Dataset { Title = "Berth occupancy, monthly", Classification = Classification.Public },
        })).Dataset;
        await acme.UploadAsync(dataset.Name, new MemoryStream("berth,occupied\nA,1\n"u8.ToArray()), new() { MediaType = "text/csv" });
        await acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name });
        var monthly = (await acme.Pricing.CreateOfferAsync(new CreateOfferRequest
        {
            Parent = dataset.Name,
            Offer = new Offer { Kind = OfferKind.Subscription, Price = new Money { Currency = "EUR", AmountMinor = 900 }, PeriodMonths = 1, AutoRenew = true },
        })).Offer;
        var request = (await initech.Access.RequestAccessAsync(new RequestAccessRequest { Dataset = dataset.Name, Purpose = "research", Offer = monthly.Name }))
            .AccessRequest;
        var grant = (await acme.Access.ApproveAccessRequestAsync(new ApproveAccessRequestRequest { Name = request.Name })).Grant;

        await using var tab = await ConsolePage.OpenAsync(fixture.Browser!, Address);
        await tab.SignInAsync(Participant.Initech);
        var page = tab.Page;
        var card = page.Locator($"article[data-grant='{grant.Name}']");
        await Assertions.Expect(card.GetByTestId("renewal")).ToContainTextAsync("Renews every 1 month(s) at 900 minor units of EUR");
        // One click asks; "Keep renewing" changes nothing; only the confirmation cancels.
        await card.GetByRole(AriaRole.Button, new() { Name = $"Cancel the renewal of {grant.Name}" }).ClickAsync();
        await Assertions.Expect(card.GetByRole(AriaRole.Alert)).ToContainTextAsync("cannot be undone");
        await card.GetByRole(AriaRole.Button, new() { Name = "Keep renewing" }).ClickAsync();
        await Assertions.Expect(card.GetByRole(AriaRole.Alert)).ToHaveCountAsync(0);
        Assert.Null((await initech.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name })).Grant.RenewalCancelTime);
        await card.GetByRole(AriaRole.Button, new() { Name = $"Cancel the renewal of {grant.Name}" }).ClickAsync();
        await card.GetByRole(AriaRole.Button, new() { Name = $"Yes, cancel the renewal of {grant.Name}" }).ClickAsync();

        var end = grant.CreateTime.ToDateTimeOffset().AddMonths(1);
        await Assertions.Expect(page.Locator("p.ok[role=status]")).ToContainTextAsync($"{grant.Name} renews no more");
        await Assertions.Expect(card.GetByTestId("renewal")).ToContainTextAsync($"the grant ends {end:yyyy-MM-dd HH:mm:ss} UTC");
        var stored = (await initech.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name })).Grant;
        Assert.NotNull(stored.RenewalCancelTime);
        Assert.Equal(end, stored.Terms.ExpireTime.ToDateTimeOffset());
        tab.AssertNoErrors();
    }
}
