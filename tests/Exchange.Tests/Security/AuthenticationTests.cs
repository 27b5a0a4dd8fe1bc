using System.Security.Cryptography;
using Exchange.Cli;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Tests.Security;

/// <summary>Tokens an attacker might present: each must be refused with UNAUTHENTICATED.</summary>
public sealed class AuthenticationTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
{
    private static string Mint(string? keyFile = null, string participant = "acme", string issuer = DevTokens.DefaultIssuer,
        string audience = DevTokens.DefaultAudience, TimeSpan? lifetime = null, DateTimeOffset? now = null) =>
        DevTokens.Mint(keyFile ?? ExchangeFactory.DevKeyFile, participant, ["provider"], lifetime ?? TimeSpan.FromMinutes(5),
            issuer, audience, now);

    private async Task<RpcException> Refused(string? token)
    {
        using var client = Gateway.ClientWithToken(token);
        return await Rpc.FailsWith(StatusCode.Unauthenticated, client.Catalog.ListDatasetsAsync(new ListDatasetsRequest()));
    }

    [Fact]
    public async Task A_valid_dev_token_is_accepted()
    {
        using var client = Gateway.ClientWithToken(Mint());
        await client.Catalog.ListDatasetsAsync(new ListDatasetsRequest());
    }

    [Fact]
    public async Task No_token_is_refused_with_a_message_saying_what_to_send()
    {
        var error = await Refused(null);
        Assert.Contains("Bearer", error.Status.Detail);
    }

    [Fact]
    public async Task Garbage_is_refused() => await Refused("not-a-jwt");

    [Fact]
    public async Task An_expired_token_is_refused()
    {
        var error = await Refused(Mint(now: DateTimeOffset.UtcNow.AddHours(-2), lifetime: TimeSpan.FromHours(1)));
        Assert.Contains("expired", error.Status.Detail);
    }

    [Fact]
    public async Task A_token_expired_beyond_the_30_second_skew_is_refused() =>
        await Refused(Mint(now: DateTimeOffset.UtcNow.AddMinutes(-1).AddSeconds(-35), lifetime: TimeSpan.FromMinutes(1)));

    [Fact]
    public async Task A_token_from_another_issuer_is_refused()
    {
        var error = await Refused(Mint(issuer: "someone-else"));
        Assert.Contains("issuer is not accepted", error.Status.Detail);
    }

    [Fact]
    public async Task A_token_for_another_audience_is_refused() => await Refused(Mint(audience: "another-api"));

    [Fact]
    public async Task A_token_signed_by_an_unknown_key_is_refused()
    {
        var keyFile = Path.GetTempFileName();
        try
        {
            using (var attacker = ECDsa.Create(ECCurve.NamedCurves.nistP256))
            {
                await File.WriteAllTextAsync(keyFile, attacker.ExportPkcs8PrivateKeyPem());
            }

            var error = await Refused(Mint(keyFile));
            Assert.Contains("signature", error.Status.Detail);
        }
        finally
        {
            File.Delete(keyFile);
        }
    }

    [Fact]
    public async Task A_token_with_a_tampered_payload_is_refused()
    {
        var parts = Mint(participant: "acme").Split('.');
        var payload = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(parts[1]).Replace("\"acme\"", "\"ops\"");
        parts[1] = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(payload);
        await Refused(string.Join('.', parts));
    }

    [Fact]
    public async Task An_unsigned_token_is_refused()
    {
        var parts = Mint().Split('.');
        var header = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode("{\"alg\":\"none\",\"typ\":\"JWT\"}");
        await Refused($"{header}.{parts[1]}.");
    }

    [Theory]
    [InlineData("pem")]
    [InlineData("spki")]
    public async Task A_token_signed_with_hs256_using_the_public_key_as_secret_is_refused(string secretForm)
    {
        // Algorithm confusion: an HMAC "signed" with the server's own public key, which anyone has.
        var pem = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "certs-dev", "jwt-signing.pub"));
        using var ec = ECDsa.Create();
        ec.ImportFromPem(pem);
        var secret = secretForm == "pem" ? System.Text.Encoding.ASCII.GetBytes(pem) : ec.ExportSubjectPublicKeyInfo();
        var header = Encode(new { alg = "HS256", typ = "JWT", kid = Exchange.Server.Security.SigningKeys.KeyId(ec.ExportSubjectPublicKeyInfo()) });
        var payload = Encode(ValidClaims());
        var signature = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(HMACSHA256.HashData(secret, System.Text.Encoding.ASCII.GetBytes($"{header}.{payload}")));
        await Refused($"{header}.{payload}.{signature}");
    }

    [Fact]
    public async Task A_token_without_an_audience_is_refused() => await Refused(SignDev(ValidClaims(without: "aud")));

    [Fact]
    public async Task A_token_without_an_expiry_is_refused() => await Refused(SignDev(ValidClaims(without: "exp")));

    [Fact]
    public async Task A_token_not_valid_until_later_is_refused()
    {
        var claims = ValidClaims();
        claims["nbf"] = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds();
        await Refused(SignDev(claims));
    }

    [Fact]
    public async Task The_hand_made_tokens_of_these_tests_are_accepted_when_nothing_is_wrong_with_them()
    {
        // Guards the tests above: each is refused for the one thing it changes.
        using var client = Gateway.ClientWithToken(SignDev(ValidClaims()));
        await client.Catalog.ListDatasetsAsync(new ListDatasetsRequest());
    }

    [Fact]
    public async Task A_token_valid_for_30_days_is_refused_saying_its_lifetime_is_too_long()
    {
        var error = await Refused(Mint(lifetime: TimeSpan.FromDays(30)));
        Assert.Contains("Exchange:Auth:MaxTokenLifetime", error.Status.Detail);
        Assert.Contains("30 days", error.Status.Detail);

        // Issued long ago and valid a little longer: what counts is how long it was issued for.
        await Refused(Mint(now: DateTimeOffset.UtcNow.AddDays(-29), lifetime: TimeSpan.FromDays(29).Add(TimeSpan.FromHours(1))));
    }

    [Fact]
    public async Task A_token_just_under_the_one_day_maximum_is_accepted()
    {
        using var client = Gateway.ClientWithToken(Mint(lifetime: TimeSpan.FromDays(1) - TimeSpan.FromMinutes(1)));
        await client.Catalog.ListDatasetsAsync(new ListDatasetsRequest());
    }

    [Fact]
    public async Task A_token_without_iat_is_judged_by_the_time_it_has_left()
    {
        var claims = ValidClaims(without: "iat");
        claims["exp"] = DateTimeOffset.UtcNow.AddDays(2).ToUnixTimeSeconds();
        var error = await Refused(SignDev(claims));
        Assert.Contains("exp - now", error.Status.Detail);

        claims["exp"] = DateTimeOffset.UtcNow.AddHours(23).ToUnixTimeSeconds();
        using var client = Gateway.ClientWithToken(SignDev(claims));
        await client.Catalog.ListDatasetsAsync(new ListDatasetsRequest());
    }

    [Fact]
    public async Task A_token_that_claims_to_be_issued_in_the_future_is_judged_by_the_time_it_has_left()
    {
        var claims = ValidClaims();
        claims["iat"] = DateTimeOffset.UtcNow.AddDays(29).ToUnixTimeSeconds();
        claims["exp"] = DateTimeOffset.UtcNow.AddDays(30).ToUnixTimeSeconds();
        await Refused(SignDev(claims));
    }

    [Fact]
    public async Task A_longer_maximum_can_be_configured()
    {
        using var lenient = ExchangeFactory.With(("Exchange:Auth:MaxTokenLifetime", "30.00:00:00"));
        using var client = lenient.ClientWithToken(Mint(lifetime: TimeSpan.FromDays(30) - TimeSpan.FromMinutes(1)));
        await client.Catalog.ListDatasetsAsync(new ListDatasetsRequest());
        using var tooLong = lenient.ClientWithToken(Mint(lifetime: TimeSpan.FromDays(31)));
        await Rpc.FailsWith(StatusCode.Unauthenticated, tooLong.Catalog.ListDatasetsAsync(new ListDatasetsRequest()));
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("-01:00:00")]
    public async Task A_maximum_token_lifetime_of_zero_or_less_stops_the_start(string value)
    {
        var (exit, error) = await Exchange.Tests.Smoke.Tools.RunServerToExitAsync("Development",
            $"--Exchange:DataDirectory={Path.Combine(Path.GetTempPath(), "exchange-lifetime", Guid.NewGuid().ToString("N"))}",
            $"--Exchange:Auth:MaxTokenLifetime={value}");
        Assert.Equal(1, exit);
        Assert.Contains("Exchange:Auth:MaxTokenLifetime", error, StringComparison.Ordinal);
    }

    private static Dictionary<string, object> ValidClaims(string? without = null)
    {
        var now = DateTimeOffset.UtcNow;
        var claims = new Dictionary<string, object>
        {
            ["iss"] = DevTokens.DefaultIssuer,
            ["aud"] = DevTokens.DefaultAudience,
            ["sub"] = "acme",
            ["roles"] = new[] { "provider" },
            ["iat"] = now.ToUnixTimeSeconds(),
            ["nbf"] = now.ToUnixTimeSeconds(),
            ["exp"] = now.AddMinutes(5).ToUnixTimeSeconds(),
        };
        if (without is not null)
        {
            claims.Remove(without);
        }

        return claims;
    }

    /// <summary>Signs exactly <paramref name="claims"/> (no defaults added) with the dev key, ES256.</summary>
    private static string SignDev(Dictionary<string, object> claims)
    {
        using var ec = ECDsa.Create();
        ec.ImportFromPem(File.ReadAllText(ExchangeFactory.DevKeyFile));
        var key = new Microsoft.IdentityModel.Tokens.ECDsaSecurityKey(ec)
        {
            KeyId = Exchange.Server.Security.SigningKeys.KeyId(ec.ExportSubjectPublicKeyInfo()),
            CryptoProviderFactory = new Microsoft.IdentityModel.Tokens.CryptoProviderFactory { CacheSignatureProviders = false },
        };
        var handler = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        return handler.CreateToken(System.Text.Json.JsonSerializer.Serialize(claims),
            new Microsoft.IdentityModel.Tokens.SigningCredentials(key, Microsoft.IdentityModel.Tokens.SecurityAlgorithms.EcdsaSha256));
    }

    private static string Encode(object value) =>
        Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(System.Text.Json.JsonSerializer.Serialize(value));

    [Theory]
    [InlineData("Not/A/Participant")]
    [InlineData("UPPER")]
    [InlineData("")]
    public async Task A_token_whose_subject_is_not_a_participant_id_is_refused(string subject)
    {
        var error = await Refused(Mint(participant: subject));
        Assert.Contains("sub", error.Status.Detail);
    }
}
