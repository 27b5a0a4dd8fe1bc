using System.CommandLine;
using Exchange.V1;

namespace Exchange.Cli.Commands;

/// <summary><c>exchange offers create|list|get|withdraw|quote</c>: a provider prices a dataset; a consumer compares and gets a quote.</summary>
internal static class OffersCommand
{
    public static Command Create(CliApp app)
    {
        var command = new Command("offers", "Price datasets, compare offers, and get a quote before asking for access.");
        command.Add(Make(app));
        command.Add(List(app));
        command.Add(Get(app));
        command.Add(Withdraw(app));
        command.Add(Quote(app));
        return command;
    }

    private static Argument<string> NameArgument() => new("name") { Description = "The offer, e.g. datasets/abc123/offers/def456." };

    private static Command Make(CliApp app)
    {
        var dataset = new Argument<string>("dataset") { Description = "The dataset you provide, e.g. datasets/abc123." };
        var kind = new Option<string>("--kind") { Description = "free, one-off, per-transfer, per-gib, per-query or subscription.", Required = true };
        var price = new Option<long>("--price") { Description = "The price per unit in minor units (cents, øre, fen), e.g. 12500 for 125.00." };
        var currency = new Option<string>("--currency") { Description = "ISO 4217 code, e.g. NOK, EUR, CNY.", Required = true };
        var months = new Option<int>("--months") { Description = "For a subscription: months per period (1 to 36)." };
        var renew = new Option<bool>("--auto-renew") { Description = "For a subscription: a period renews by itself." };
        var free = new Option<long>("--free-units") { Description = "Transfers, GiB or queries not charged in each period." };
        var cap = new Option<long>("--cap") { Description = "The most charged in one period, in minor units (0: no cap)." };
        var partial = new Option<string?>("--partial-charge")
        {
            Description = "For per-gib: how a failed or cut transfer is charged: unspecified (not at all, the default) or bytes-sent.",
        };
        var to = new Option<string?>("--private-to") { Description = "Make the offer to this participant only." };
        var description = new Option<string?>("--description") { Description = "What the offer includes, for buyers." };
        var command = new Command("create", "Make an offer on a dataset you provide; offers never change (withdraw one and make another).")
        {
            dataset, kind, price, currency, months, renew, free, cap, partial, to, description,
        };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var offer = new Offer
            {
                Kind = Render.ParseEnumOption<OfferKind>(parse.GetValue(kind), "--kind"),
                Price = new Money { Currency = parse.GetValue(currency)!, AmountMinor = parse.GetValue(price) },
                PeriodMonths = parse.GetValue(months),
                AutoRenew = parse.GetValue(renew),
                FreeUnits = parse.GetValue(free),
                CapMinorPerPeriod = parse.GetValue(cap),
                PartialTransferCharge = Render.ParseEnumOption<PartialTransferCharge>(parse.GetValue(partial), "--partial-charge"),
                PrivateTo = parse.GetValue(to) ?? "",
                Description = parse.GetValue(description) ?? "",
            };
            var created = (await client.Pricing.CreateOfferAsync(new CreateOfferRequest { Parent = parse.GetValue(dataset), Offer = offer },
                cancellationToken: cancellationToken)).Offer;
            Print(app, parse, created);
            return 0;
        }));
        return command;
    }

    private static Command List(CliApp app)
    {
        var dataset = new Argument<string>("dataset") { Description = "The dataset, e.g. datasets/abc123." };
        var withdrawn = new Option<bool>("--withdrawn") { Description = "Show withdrawn offers too." };
        var command = new Command("list", "A dataset's offers, beside its latest quality report and what the exchange has seen of its use.") { dataset, withdrawn };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var listed = await client.Pricing.ListOffersAsync(new ListOffersRequest { Parent = parse.GetValue(dataset), ShowWithdrawn = parse.GetValue(withdrawn) },
                cancellationToken: cancellationToken);
            if (parse.GetValue(app.Json))
            {
                Render.Json(app.Output, listed);
                return 0;
            }

            foreach (var offer in listed.Offers)
            {
                app.Output.WriteLine($"{offer.Name}  {Render.OfferPrice(offer)}{(offer.State == OfferState.Withdrawn ? "  (withdrawn)" : "")}" +
                    (offer.PrivateTo.Length > 0 ? $"  (private to {offer.PrivateTo})" : ""));
            }

            app.Output.WriteLine(listed.Offers.Count == 1 ? "1 offer" : $"{listed.Offers.Count} offers");
            var d = listed.Demand;
            app.Output.WriteLine($"demand: {d.Grants} grants ({d.Grants90Days} in 90 days), {d.Transfers} transfers ({d.Transfers90Days}), " +
                $"{d.Queries} queries ({d.Queries90Days})");
            if (listed.Quality is { } quality)
            {
                app.Output.WriteLine($"quality: {quality.RowCount} rows, about {quality.DuplicateRowEstimate} duplicate rows (datasets get shows the full report)");
            }

            return 0;
        }));
        return command;
    }

    private static Command Get(CliApp app)
    {
        var name = NameArgument();
        var command = new Command("get", "Show one offer.") { name };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            Print(app, parse, (await client.Pricing.GetOfferAsync(new GetOfferRequest { Name = parse.GetValue(name) }, cancellationToken: cancellationToken)).Offer);
            return 0;
        }));
        return command;
    }

    private static Command Withdraw(CliApp app)
    {
        var name = NameArgument();
        var command = new Command("withdraw", "Withdraw an offer: no new request may accept it; grants that did keep it.") { name };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            Print(app, parse, (await client.Pricing.WithdrawOfferAsync(new WithdrawOfferRequest { Name = parse.GetValue(name) },
                cancellationToken: cancellationToken)).Offer);
            return 0;
        }));
        return command;
    }

    private static Command Quote(CliApp app)
    {
        var name = NameArgument();
        var units = new Option<long>("--units") { Description = "Transfers or queries to price (default 1); per-GiB offers price the latest revision." };
        var periods = new Option<int>("--periods") { Description = "Subscription periods to price (default 1)." };
        var command = new Command("quote", "What a request under an offer would cost, before you ask.") { name, units, periods };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var quote = await client.Pricing.QuoteAccessAsync(new QuoteAccessRequest
            {
                Offer = parse.GetValue(name),
                Units = parse.GetValue(units),
                Periods = parse.GetValue(periods),
            }, cancellationToken: cancellationToken);
            if (parse.GetValue(app.Json))
            {
                Render.Json(app.Output, quote);
                return 0;
            }

            foreach (var line in quote.Lines)
            {
                app.Output.WriteLine(Render.Printable(line));
            }

            app.Output.WriteLine($"total: {Render.Minor(quote.Total)}");
            return 0;
        }));
        return command;
    }

    private static void Print(CliApp app, ParseResult parse, Offer offer)
    {
        if (parse.GetValue(app.Json))
        {
            Render.Json(app.Output, offer);
            return;
        }

        app.Output.WriteLine($"name             {offer.Name}");
        app.Output.WriteLine($"price            {Render.OfferPrice(offer)}");
        app.Output.WriteLine($"state            {Render.EnumName(offer.State)}");
        if (offer.PrivateTo.Length > 0)
        {
            app.Output.WriteLine($"private to       {offer.PrivateTo}");
        }

        if (offer.Description.Length > 0)
        {
            app.Output.WriteLine($"description      {Render.Printable(offer.Description)}");
        }
    }
}
