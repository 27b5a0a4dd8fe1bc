using System.Security.Cryptography;
using System.Text;
using Exchange.Client;
using Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Tests.Rights;

/// <summary>Registrations with evidence, and a gateway on which rights are required and the public notice is over at once.</summary>
internal static class RightsFixture
{
    /// <summary>A basis with one document's digest, as a registrant keeps the document and registers its hash.</summary>
    public static RightBasis Basis(RightBasisKind kind = RightBasisKind.OwnCollection) => new()
    {
        Kind = kind,
        Evidence =
        {
            new RightEvidence
            {
                Sha256 = ByteString.CopyFrom(SHA256.HashData(Encoding.UTF8.GetBytes("signed collection consent, v3"))),
                MediaType = "application/pdf",
                Description = "collection consent form",
            },
        },
    };

    public static Right Asked(RightKind kind, string[]? purposes = null, DateTimeOffset? end = null, string[]? territories = null) => new()
    {
        Kind = kind,
        Basis = Basis(),
        Scope = new RightScope { Purposes = { purposes ?? [] }, Territories = { territories ?? [] } },
        EndTime = end is { } e ? Timestamp.FromDateTimeOffset(e) : null,
    };

    public static async Task<Right> RegisterAsync(this ExchangeClient holder, string dataset, RightKind kind, string[]? purposes = null,
        DateTimeOffset? end = null) =>
        (await holder.Rights.RegisterRightAsync(new RegisterRightRequest { Parent = dataset, Right = Asked(kind, purposes, end) })).Right;

    /// <summary>Registers a right as <paramref name="holder"/> and has <paramref name="reviewer"/> approve it (no notice period on the gateway).</summary>
    public static async Task<Right> ApprovedAsync(this ExchangeClient holder, ExchangeClient reviewer, string dataset, RightKind kind,
        string[]? purposes = null, DateTimeOffset? end = null)
    {
        var pending = await holder.RegisterAsync(dataset, kind, purposes, end);
        return (await reviewer.Rights.ApproveRightAsync(new ApproveRightRequest { Name = pending.Name })).Right;
    }

    public static async Task<Right> GetAsync(this ExchangeClient client, Right right) =>
        (await client.Rights.GetRightAsync(new GetRightRequest { Name = right.Name })).Right;
}
