using Exchange.V1;

namespace Exchange.Tests.Billing;

/// <summary>The pricing rule on figures worked out by hand: free units first, then the price, then the month's cap; a GiB pro rata, rounded on the month's running total.</summary>
public sealed class OfferChargesTests
{
    private static Offer Offer(OfferKind kind, long price, long free = 0, long cap = 0) =>
        new() { Kind = kind, Price = new Money { Currency = "EUR", AmountMinor = price }, FreeUnits = free, CapMinorPerPeriod = cap };

    [Fact]
    public void Per_unit_offers_charge_after_the_free_units_up_to_the_cap()
    {
        var offer = Offer(OfferKind.PerTransfer, 100, free: 2, cap: 250);
        long units = 0, paid = 0;
        var charges = new List<long>();
        for (var i = 0; i < 6; i++)
        {
            var charge = OfferCharges.Charge(offer, units, 1, paid);
            charges.Add(charge);
            units++;
            paid += charge;
        }

        Assert.Equal([0L, 0, 100, 100, 50, 0], charges);
        Assert.Equal(250, OfferCharges.Charge(offer, 0, 6, 0));
    }

    [Fact]
    public void A_gib_is_charged_pro_rata_and_thirds_of_it_cost_what_the_whole_does()
    {
        var offer = Offer(OfferKind.PerGib, 1000);
        const long third = OfferCharges.BytesPerGib / 3;
        Assert.Equal(333, OfferCharges.Charge(offer, 0, third, 0));
        Assert.Equal(334, OfferCharges.Charge(offer, third, third, 333));
        Assert.Equal(333, OfferCharges.Charge(offer, 2 * third, OfferCharges.BytesPerGib - (2 * third), 667));
        // The first GiB free: 1.5 GiB cost half a GiB.
        Assert.Equal(500, OfferCharges.Charge(Offer(OfferKind.PerGib, 1000, free: 1), 0, OfferCharges.BytesPerGib * 3 / 2, 0));
    }

    [Fact]
    public void Fixed_prices_ignore_what_came_before_and_fees_round_half_up()
    {
        Assert.Equal(700, OfferCharges.Charge(Offer(OfferKind.OneOff, 700), 5, 1, 9000));
        Assert.Equal(1500, OfferCharges.Charge(Offer(OfferKind.Subscription, 500), 0, 3, 0));
        Assert.Equal(0, OfferCharges.Charge(Offer(OfferKind.Free, 0), 0, 10, 0));
        Assert.Equal(3, OfferCharges.Fee(100, 250));
        Assert.Equal(2, OfferCharges.Fee(99, 250));
        Assert.Equal(0, OfferCharges.Fee(19, 250));
        Assert.Equal(1, OfferCharges.Fee(20, 250));
    }
}
