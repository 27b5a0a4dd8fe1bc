using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Microsoft.IdentityModel.Tokens;

namespace Exchange.Server.Paging;

/// <summary>
/// Opaque page tokens: the position to continue after, bound to the query it came from (method,
/// caller and filters) and authenticated with a per-exchange key. A client can neither forge a
/// position nor replay a token under other filters or as another participant.
/// </summary>
/// <param name="key">The per-exchange key, from the database (<see cref="Storage.StorageInitializer"/>).</param>
internal sealed class PageTokens(byte[] key)
{
    private const byte Version = 1;
    private const int ScopeLength = 16;
    private const int MacLength = 16;
    private const int PayloadLength = 1 + ScopeLength + sizeof(long);

    /// <summary>A token meaning "continue after <paramref name="position"/>" for this query.</summary>
    public string Encode(string scope, long position)
    {
        Span<byte> token = stackalloc byte[PayloadLength + MacLength];
        token[0] = Version;
        ScopeHash(scope).CopyTo(token[1..]);
        BinaryPrimitives.WriteInt64BigEndian(token[(1 + ScopeLength)..], position);
        HMACSHA256.HashData(key, token[..PayloadLength])[..MacLength].CopyTo(token[PayloadLength..]);
        return Base64UrlEncoder.Encode(token.ToArray());
    }

    /// <summary>The position in <paramref name="token"/>, or 0 for an empty token (the first page).</summary>
    public long Decode(string token, string scope)
    {
        if (string.IsNullOrEmpty(token))
        {
            return 0;
        }

        byte[] raw;
        try
        {
            raw = Base64UrlEncoder.DecodeBytes(token);
        }
        catch (FormatException)
        {
            throw Invalid();
        }

        if (raw.Length != PayloadLength + MacLength || raw[0] != Version)
        {
            throw Invalid();
        }

        var expectedMac = HMACSHA256.HashData(key, raw.AsSpan(0, PayloadLength))[..MacLength];
        if (!CryptographicOperations.FixedTimeEquals(expectedMac, raw.AsSpan(PayloadLength)) ||
            !CryptographicOperations.FixedTimeEquals(ScopeHash(scope), raw.AsSpan(1, ScopeLength)))
        {
            throw Invalid();
        }

        return BinaryPrimitives.ReadInt64BigEndian(raw.AsSpan(1 + ScopeLength));
    }

    private static byte[] ScopeHash(string scope) => SHA256.HashData(Encoding.UTF8.GetBytes(scope))[..ScopeLength];

    private static RpcException Invalid() => new(new Status(StatusCode.InvalidArgument,
        "page_token is not valid for this request: pass back the next_page_token of the previous page unchanged, " +
        "with the same filters, or leave it empty to start over."));
}
