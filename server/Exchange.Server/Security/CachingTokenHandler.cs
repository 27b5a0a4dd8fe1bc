using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Exchange.Server.Security;

/// <summary>
/// The JWT handler, remembering tokens it has validated so that a caller's next call with the same
/// token costs a hash and a lookup instead of a signature verification (an ES256 verify was a third
/// of a catalog call). A remembered token is taken again only while it is unexpired and while the
/// key that signed it is still among the keys its issuer may use now (the key files as last read,
/// the authority's current keys), so removing or rotating a key refuses its tokens as before.
/// Entries are keyed by the token's SHA-256, never the token itself, and bounded in number.
/// Everything the gateway checks per call beyond the token (issuer binding, lifetime cap,
/// certificate binding, roles) still runs per call, after this.
/// </summary>
internal sealed class CachingTokenHandler(TimeProvider time, int capacity = CachingTokenHandler.DefaultCapacity) : JsonWebTokenHandler
{
    public const int DefaultCapacity = 10_000;

    private readonly ConcurrentDictionary<UInt128, Entry> _validated = new();

    /// <summary>Tokens remembered now.</summary>
    public int Count => _validated.Count;

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        var key = Key(token);
        var configuration = validationParameters.ConfigurationManager is { } manager
            ? await manager.GetBaseConfigurationAsync(CancellationToken.None)
            : null;
        if (_validated.TryGetValue(key, out var entry))
        {
            if (time.GetUtcNow() < entry.Expires && StillSigningKey(entry, token, validationParameters, configuration))
            {
                return new TokenValidationResult
                {
                    IsValid = true,
                    ClaimsIdentity = entry.Identity.Clone(),
                    SecurityToken = entry.Token,
                    Issuer = entry.Token.Issuer,
                    TokenType = entry.TokenType,
                };
            }

            _validated.TryRemove(key, out _);
        }

        var result = await base.ValidateTokenAsync(token, validationParameters);
        if (result.IsValid && result.SecurityToken is JsonWebToken validated && validated.SigningKey is not null && result.ClaimsIdentity is { } identity)
        {
            Remember(key, new Entry(validated, identity.Clone(), result.TokenType, new DateTimeOffset(validated.ValidTo, TimeSpan.Zero)));
        }

        return result;
    }

    private void Remember(UInt128 key, Entry entry)
    {
        if (_validated.Count >= capacity)
        {
            var now = time.GetUtcNow();
            foreach (var (stale, _) in _validated.Where(e => e.Value.Expires <= now))
            {
                _validated.TryRemove(stale, out _);
            }

            if (_validated.Count >= capacity)
            {
                // Still full of live tokens: forget them all; each is validated in full once more.
                _validated.Clear();
            }
        }

        _validated[key] = entry;
    }

    /// <summary>Whether the key that signed the remembered token is still one its issuer's tokens may be signed with.</summary>
    private static bool StillSigningKey(Entry entry, string token, TokenValidationParameters parameters, BaseConfiguration? configuration)
    {
        IEnumerable<SecurityKey>? keys;
        try
        {
            keys = parameters.IssuerSigningKeyResolverUsingConfiguration is { } resolve
                ? resolve(token, entry.Token, entry.Token.Kid, parameters, configuration)
                : parameters.IssuerSigningKeys;
        }
        catch (SecurityTokenException)
        {
            return false;
        }

        return keys?.Any(key => ReferenceEquals(key, entry.Token.SigningKey)) == true;
    }

    // 128 bits of the token's SHA-256: a lookup key no one can aim at another token's entry.
    private static UInt128 Key(string token)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var bytes = Encoding.UTF8.GetBytes(token);
        SHA256.HashData(bytes, hash);
        return new UInt128(BitConverter.ToUInt64(hash), BitConverter.ToUInt64(hash[8..]));
    }

    private sealed record Entry(JsonWebToken Token, System.Security.Claims.ClaimsIdentity Identity, string TokenType, DateTimeOffset Expires);
}
