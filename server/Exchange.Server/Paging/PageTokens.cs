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

    // One keyed HMAC per thread, reset after each use: a one-shot HMAC sets the key up again on every
    // call, which cost as much as the rest of a token.
    [ThreadStatic]
    private static (byte[] Key, IncrementalHash Hmac)? _threadMac;

    /// <summary>A token meaning "continue after <paramref name="position"/>" for this query.</summary>
    public string Encode(string scope, long position)
    {
        Span<byte> token = stackalloc byte[PayloadLength + MacLength];
        token[0] = Version;
        ScopeHash(scope, token.Slice(1, ScopeLength));
        BinaryPrimitives.WriteInt64BigEndian(token[(1 + ScopeLength)..], position);
        Mac(token[..PayloadLength], token[PayloadLength..]);
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

        Span<byte> expectedMac = stackalloc byte[MacLength];
        Mac(raw.AsSpan(0, PayloadLength), expectedMac);
        Span<byte> expectedScope = stackalloc byte[ScopeLength];
        ScopeHash(scope, expectedScope);
        if (!CryptographicOperations.FixedTimeEquals(expectedMac, raw.AsSpan(PayloadLength)) ||
            !CryptographicOperations.FixedTimeEquals(expectedScope, raw.AsSpan(1, ScopeLength)))
        {
            throw Invalid();
        }

        return BinaryPrimitives.ReadInt64BigEndian(raw.AsSpan(1 + ScopeLength));
    }

    private void Mac(ReadOnlySpan<byte> payload, Span<byte> mac)
    {
        if (_threadMac is not { } current || !ReferenceEquals(current.Key, key))
        {
            _threadMac?.Hmac.Dispose();
            current = (key, IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key));
            _threadMac = current;
        }

        Span<byte> full = stackalloc byte[HMACSHA256.HashSizeInBytes];
        current.Hmac.AppendData(payload);
        current.Hmac.GetHashAndReset(full);
        full[..MacLength].CopyTo(mac);
    }

    private static void ScopeHash(string scope, Span<byte> hash)
    {
        Span<byte> full = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(scope), full);
        full[..ScopeLength].CopyTo(hash);
    }

    private static RpcException Invalid() => new(new Status(StatusCode.InvalidArgument,
        "page_token is not valid for this request: pass back the next_page_token of the previous page unchanged, " +
        "with the same filters, or leave it empty to start over."));
}
