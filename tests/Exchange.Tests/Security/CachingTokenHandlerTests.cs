using Exchange.Cli;
using Exchange.Server.Security;
using Exchange.Tests.Infrastructure;
using Grpc.Core;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;

namespace Exchange.Tests.Security;

/// <summary>
/// Validated tokens are remembered, so a caller's next call skips the signature check; from the
/// attacker's side, nothing a full validation would refuse is let through by that memory.
/// (A remembered token whose key is removed from the key files is refused: SigningKeyRotationTests.)
/// </summary>
public sealed class CachingTokenHandlerTests
{
    [Fact]
    public async Task A_remembered_token_is_refused_once_it_expires()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var factory = new ExchangeFactory { Clock = clock };
        var token = DevTokens.Mint(ExchangeFactory.DevKeyFile, "acme", ["provider"], TimeSpan.FromMinutes(2), now: clock.GetUtcNow());

        Assert.Equal(StatusCode.OK, await Rpc.ListDatasetsStatusAsync(factory, token));
        Assert.Equal(StatusCode.OK, await Rpc.ListDatasetsStatusAsync(factory, token));
        clock.Advance(TimeSpan.FromMinutes(3));

        Assert.Equal(StatusCode.Unauthenticated, await Rpc.ListDatasetsStatusAsync(factory, token));
    }

    [Fact]
    public async Task A_remembered_token_with_its_signature_altered_is_refused_and_the_original_still_works()
    {
        using var factory = new ExchangeFactory();
        var token = ExchangeFactory.Token("acme", "provider");
        Assert.Equal(StatusCode.OK, await Rpc.ListDatasetsStatusAsync(factory, token));

        var signature = token[(token.LastIndexOf('.') + 1)..];
        var forged = token[..(token.LastIndexOf('.') + 1)] + (signature[0] == 'A' ? 'B' : 'A') + signature[1..];
        Assert.Equal(StatusCode.Unauthenticated, await Rpc.ListDatasetsStatusAsync(factory, forged));
        // A payload claiming other roles under the remembered token's signature is refused too.
        var parts = token.Split('.');
        var payload = System.Text.Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1])).Replace("\"provider\"", "\"operator\"", StringComparison.Ordinal);
        var elevated = $"{parts[0]}.{Base64UrlEncoder.Encode(payload)}.{parts[2]}";
        Assert.Equal(StatusCode.Unauthenticated, await Rpc.ListDatasetsStatusAsync(factory, elevated));

        Assert.Equal(StatusCode.OK, await Rpc.ListDatasetsStatusAsync(factory, token));
    }

    [Fact]
    public async Task Only_so_many_tokens_are_remembered_and_each_still_validates_after_being_forgotten()
    {
        var handler = new CachingTokenHandler(TimeProvider.System, capacity: 2);
        var key = new ECDsaSecurityKey(System.Security.Cryptography.ECDsa.Create());
        key.ECDsa.ImportFromPem(await File.ReadAllTextAsync(Path.ChangeExtension(ExchangeFactory.DevKeyFile, ".pub")));
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = DevTokens.DefaultIssuer,
            ValidAudience = DevTokens.DefaultAudience,
            IssuerSigningKeys = [key],
        };
        var tokens = Enumerable.Range(0, 3).Select(i => DevTokens.Mint(ExchangeFactory.DevKeyFile, $"p{i}", ["consumer"], TimeSpan.FromMinutes(5))).ToList();

        foreach (var token in tokens.Concat(tokens))
        {
            Assert.True((await handler.ValidateTokenAsync(token, parameters)).IsValid);
            Assert.True(handler.Count <= 2);
        }

        // A token signed by a key no longer among the keys is refused even after it was remembered.
        parameters.IssuerSigningKeys = [new ECDsaSecurityKey(System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256))];
        Assert.False((await handler.ValidateTokenAsync(tokens[^1], parameters)).IsValid);
    }
}
