using System.Security.Cryptography;
using Exchange.Cli;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Tests.Security;

/// <summary>Tokens an attacker might present: each must be refused with UNAUTHENTICATED.</summary>
public sealed class AuthenticationTests(ExchangeFactory factory) : IClassFixture<ExchangeFactory>
{
    private static string Mint(string? keyFile = null, string participant = "acme", string issuer = DevTokens.DefaultIssuer,
        string audience = DevTokens.DefaultAudience, TimeSpan? lifetime = null, DateTimeOffset? now = null) =>
        DevTokens.Mint(keyFile ?? ExchangeFactory.DevKeyFile, participant, ["provider"], lifetime ?? TimeSpan.FromMinutes(5),
            issuer, audience, now);

    private async Task<RpcException> Refused(string? token)
    {
        using var client = factory.ClientWithToken(token);
        return await Rpc.FailsWith(StatusCode.Unauthenticated, client.Catalog.ListDatasetsAsync(new ListDatasetsRequest()));
    }

    [Fact]
    public async Task A_valid_dev_token_is_accepted()
    {
        using var client = factory.ClientWithToken(Mint());
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
    public async Task A_token_from_another_issuer_is_refused() => await Refused(Mint(issuer: "someone-else"));

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
    [InlineData("Not/A/Participant")]
    [InlineData("UPPER")]
    [InlineData("")]
    public async Task A_token_whose_subject_is_not_a_participant_id_is_refused(string subject)
    {
        var error = await Refused(Mint(participant: subject));
        Assert.Contains("sub", error.Status.Detail);
    }
}
