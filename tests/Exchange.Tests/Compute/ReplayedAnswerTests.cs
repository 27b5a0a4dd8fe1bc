using System.Security.Cryptography;
using System.Text;
using Exchange.Client;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;

namespace Exchange.Tests.Compute;

/// <summary>
/// An answer is bound to the request it answers: its event logs the SHA-256 of the request as sent, and the SDK checks
/// it, so another query's answer and receipt, relayed in its place, are refused though both verify on their own.
/// </summary>
public sealed class ReplayedAnswerTests
{
    [Fact]
    public async Task Another_querys_answer_and_receipt_relayed_in_place_of_the_answer_are_refused()
    {
        using var factory = new ExchangeFactory();
        using var acme = factory.As(Participant.Acme);
        using var initech = factory.As(Participant.Initech);
        var dataset = await ComputeFixture.PurchasesAsync(acme);
        var grant = await ComputeFixture.ComputeGrantAsync(acme, initech, dataset, ComputeFixture.Rule());
        const string Earlier = "SELECT COUNT(*) FROM data";
        var earlier = await initech.RunQueryAsync(grant.Name, Earlier);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Earlier))),
            earlier.Receipt.Event.Details.Single(d => d.Key == "request_sha256").Value);

        var proxy = new RewritingProxy(factory.Server.CreateHandler()).On<RunQueryResponse>("exchange.v1.ComputeService/RunQuery", r =>
        {
            r.Result = earlier.Result;
            (r.Query, r.Revision, r.ResultSha256, r.Receipt, r.EventIndex) = (earlier.Query, earlier.Revision, earlier.ResultSha256, earlier.Receipt, earlier.EventIndex);
        });
        using var relayed = factory.ClientThrough(proxy, Participant.Initech);
        var refused = await Assert.ThrowsAsync<VerificationException>(() => relayed.RunQueryAsync(grant.Name, "SELECT city, COUNT(*) FROM data GROUP BY city"));
        Assert.Equal(VerificationCheck.Event, refused.FailedCheck);
        Assert.Contains("answers another request than the one sent", refused.Message, StringComparison.Ordinal);

        // The same relay of the same request's earlier answer is that request's answer, and passes.
        Assert.Equal(ComputeFixture.Lines(earlier), ComputeFixture.Lines(await relayed.RunQueryAsync(grant.Name, Earlier)));
    }
}
