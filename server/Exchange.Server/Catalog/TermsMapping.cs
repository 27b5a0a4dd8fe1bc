using Exchange.Server.Catalog.Model;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Server.Catalog;

/// <summary>
/// <see cref="Terms"/> to and from the contract's <c>exchange.v1.Terms</c>: at the edge, and as the
/// stored form of terms columns (the message's encoding, so stored terms read back exactly).
/// </summary>
internal static class TermsMapping
{
    public static V1.Terms ToProto(this Terms terms)
    {
        var proto = new V1.Terms
        {
            MaxTransfers = terms.MaxTransfers,
            ExpireTime = terms.ExpireTime is { } expiry ? Timestamp.FromDateTimeOffset(expiry) : null,
            View = terms.View?.Clone(),
            Kind = terms.Kind,
            Analysis = terms.Analysis?.Clone(),
            Derivation = terms.Derivation?.Clone(),
            Offer = terms.Offer?.Clone(),
        };
        proto.Purposes.Add(terms.Purposes);
        return proto;
    }

    public static Terms FromProto(V1.Terms proto) =>
        new([.. proto.Purposes], proto.ExpireTime?.ToDateTimeOffset(), proto.MaxTransfers, proto.View?.Clone(), proto.Kind,
            proto.Analysis?.Clone(), proto.Derivation?.Clone(), proto.Offer?.Clone());

    public static byte[] Encode(Terms terms) => terms.ToProto().ToByteArray();

    public static Terms Decode(byte[] stored) => FromProto(V1.Terms.Parser.ParseFrom(stored));
}
