using System.Text.Json;
using Exchange.Tests.Access;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;

namespace Exchange.Tests.Cli;

/// <summary>
/// <c>exchange access …</c> and <c>exchange grants …</c> against an in-process gateway, one for the class;
/// each test's providers and consumers are fresh, so what they list is that test's only.
/// </summary>
public sealed class AccessCliTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
{
    private readonly Participant _acme = Participant.Acme.Fresh();
    private readonly Participant _initech = Participant.Initech.Fresh();
    private readonly Participant _umbrella = Participant.Umbrella.Fresh();

    private Task<(int Exit, string Out, string Err)> Run(Participant who, params string[] args) => Gateway.RunCliAsync(who, args);

    private async Task<JsonElement> Json(Participant who, params string[] args)
    {
        var (exit, output, error) = await Run(who, ["--json", .. args]);
        Assert.True(exit == 0, error);
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    [Fact]
    public async Task A_consumer_requests_the_provider_approves_narrower_terms_and_both_see_the_grant()
    {
        using var acme = Gateway.As(_acme);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);

        var request = await Json(_initech, "access", "request", dataset.Name, "--purpose", "research",
            "--allow", "research", "--allow", "teaching", "--for", "30d", "--max-transfers", "10");
        var requestName = request.GetProperty("name").GetString()!;
        Assert.Equal("ACCESS_REQUEST_STATE_PENDING", request.GetProperty("state").GetString());

        var (exit, output, _) = await Run(_acme, "access", "list", "--state", "pending");
        Assert.Equal(0, exit);
        Assert.Contains(requestName, output);
        Assert.Contains("1 request", output);

        var approved = await Json(_acme, "access", "approve", requestName, "--allow", "research", "--for", "7d", "--max-transfers", "3");
        var grant = approved.GetProperty("grant");
        Assert.Equal("3", grant.GetProperty("terms").GetProperty("maxTransfers").GetString());
        Assert.Equal(["research"], grant.GetProperty("terms").GetProperty("purposes").EnumerateArray().Select(p => p.GetString()));

        foreach (var party in new[] { _initech, _acme })
        {
            (exit, output, _) = await Run(party, "grants", "list");
            Assert.Equal(0, exit);
            Assert.Contains(grant.GetProperty("name").GetString()!, output);
            Assert.Contains("ACTIVE", output);
        }

        (exit, output, _) = await Run(_umbrella, "grants", "list");
        Assert.Contains("0 grants", output);

        (exit, output, _) = await Run(_acme, "grants", "revoke", grant.GetProperty("name").GetString()!, "--reason", "ended early");
        Assert.Equal(0, exit);
        Assert.Contains("REVOKED", output);
        Assert.Contains("ended early", output);
    }

    [Fact]
    public async Task A_consumer_cancels_its_subscriptions_renewal_and_sees_when_the_grant_ends()
    {
        using var acme = Gateway.As(_acme);
        using var initech = Gateway.As(_initech);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var monthly = (await acme.Pricing.CreateOfferAsync(new CreateOfferRequest
        {
            Parent = dataset.Name,
            Offer = new Offer { Kind = OfferKind.Subscription, Price = new Money { Currency = "EUR", AmountMinor = 900 }, PeriodMonths = 1, AutoRenew = true },
        })).Offer;
        var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset, offer: monthly.Name));

        var (exit, _, error) = await Run(_acme, "grants", "cancel-renewal", grant.Name);
        Assert.Equal(1, exit);
        Assert.StartsWith("error: PermissionDenied:", error);

        var trusted = Path.Combine(Gateway.DataDirectory, $"trusted-{_initech.Id}.json");
        (exit, var output, error) = await Run(_initech, "grants", "cancel-renewal", grant.Name, "--trusted", trusted);
        Assert.True(exit == 0, error);
        Assert.Contains("renewal cancelled", output);
        var end = grant.CreateTime.ToDateTimeOffset().AddMonths(1);
        Assert.Contains($"ends {end:u}", output);
        Assert.Contains("ACTIVE", output);

        // Asked again, with --json: the same cancellation, and its receipt to keep.
        (exit, var json, error) = await Run(_initech, "--json", "grants", "cancel-renewal", grant.Name, "--trusted", trusted);
        Assert.True(exit == 0, error);
        var receipt = JsonDocument.Parse(json).RootElement.GetProperty("receipt");
        var index = receipt.GetProperty("event").GetProperty("index").GetString();
        Assert.Contains($"receipt: audit event {index} (verified)", output);
        Assert.True(receipt.GetProperty("checkpoint").GetProperty("size").GetString() is { } size && long.Parse(size) > long.Parse(index!));
    }

    [Fact]
    public async Task Widening_rejecting_and_withdrawing_from_the_command_line()
    {
        using var acme = Gateway.As(_acme);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var first = (await Json(_initech, "access", "request", dataset.Name, "--purpose", "research", "--max-transfers", "2"))
            .GetProperty("name").GetString()!;

        var (exit, _, error) = await Run(_acme, "access", "approve", first, "--allow", "research", "--max-transfers", "5");
        Assert.Equal(1, exit);
        Assert.StartsWith("error: InvalidArgument:", error);
        Assert.Contains("max_transfers", error);

        (exit, var output, _) = await Run(_acme, "access", "reject", first, "--reason", "not now");
        Assert.Equal(0, exit);
        Assert.Contains("REJECTED", output);

        var second = (await Json(_initech, "access", "request", dataset.Name, "--purpose", "research")).GetProperty("name").GetString()!;
        (exit, output, _) = await Run(_initech, "access", "withdraw", second);
        Assert.Equal(0, exit);
        Assert.Contains("WITHDRAWN", output);

        (exit, _, error) = await Run(_umbrella, "access", "get", second);
        Assert.Equal(1, exit);
        Assert.StartsWith("error: NotFound:", error);
    }

    [Fact]
    public async Task A_provider_sets_automatic_approval_and_a_request_within_it_is_approved_at_once()
    {
        var dataset = await Json(_acme, "datasets", "create", "--title", "Open data", "--classification", "public",
            "--auto-allow", "research", "--auto-max-transfers", "5");
        var name = dataset.GetProperty("name").GetString()!;
        Assert.Equal(["research"], dataset.GetProperty("autoApprovalTerms").GetProperty("purposes").EnumerateArray().Select(p => p.GetString()));
        using (var acme = Gateway.As(_acme))
        {
            await acme.UploadAsync(name, new MemoryStream(CatalogFixture.SampleBytes), new() { MediaType = "text/csv" });
        }

        await Json(_acme, "datasets", "publish", name);

        var request = await Json(_initech, "access", "request", name, "--purpose", "research", "--max-transfers", "2");
        Assert.Equal("ACCESS_REQUEST_STATE_APPROVED", request.GetProperty("state").GetString());
        Assert.StartsWith("grants/", request.GetProperty("grant").GetString());

        var off = await Json(_acme, "datasets", "update", name, "--no-auto-approval");
        Assert.False(off.TryGetProperty("autoApprovalTerms", out _));
        var waiting = await Json(_umbrella, "access", "request", name, "--purpose", "research", "--max-transfers", "2");
        Assert.Equal("ACCESS_REQUEST_STATE_PENDING", waiting.GetProperty("state").GetString());
    }
}
