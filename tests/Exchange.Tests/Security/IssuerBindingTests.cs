using System.Security.Cryptography;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Tests.Security;

/// <summary>
/// Two issuers trusted at once, the key files' (exchange-dev) and an OpenID Connect authority's:
/// each signs only for itself, each key only under its own kid, and each participant belongs to
/// exactly one of them, so neither issuer can speak for the other's participants.
/// </summary>
public sealed class IssuerBindingTests(IssuerBindingTests.TwoIssuers gateway) : IClassFixture<IssuerBindingTests.TwoIssuers>, IDisposable
{
    private readonly int _expectations = gateway.Factory.Errors.ExpectationMark();

    /// <summary>A server error this test did not declare fails it (see <see cref="SharedGatewayTests{TGateway}"/>).</summary>
    public void Dispose() => gateway.Factory.Errors.Check(gateway.Factory.DataDirectory, nameof(IssuerBindingTests), _expectations);

    private const string FileIssuer = Exchange.Cli.DevTokens.DefaultIssuer;

    /// <summary>A gateway with the dev key file and a second key file (issuer exchange-dev), and an authority with two keys.</summary>
    public sealed class TwoIssuers : IDisposable
    {
        private readonly string _folder = Path.Combine(Path.GetTempPath(), "exchange-issuers", Guid.NewGuid().ToString("N"));

        public TwoIssuers()
        {
            Directory.CreateDirectory(_folder);
            File.WriteAllText(Path.Combine(_folder, "second.pem"), SecondFileKey.ExportSubjectPublicKeyInfoPem());
            Factory = ExchangeFactory.With(
                Authority.Setting,
                ("Exchange:Auth:SigningKeyFiles:1", _folder),
                ("Exchange:Auth:Participants:acme", FileIssuer),
                ("Exchange:Auth:Participants:initech", OidcAuthority.Address));
            Factory.TestServices = Authority.Serve;
        }

        public OidcAuthority Authority { get; } = new(keys: 2);

        public ECDsa SecondFileKey { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        public ExchangeFactory Factory { get; }

        public void Dispose()
        {
            Factory.Dispose();
            Authority.Dispose();
            Directory.Delete(_folder, recursive: true);
        }
    }

    private async Task<(StatusCode Status, string Detail)> CallAsync(string token)
    {
        using var client = gateway.Factory.ClientWithToken(token);
        try
        {
            await client.Catalog.ListDatasetsAsync(new ListDatasetsRequest());
            return (StatusCode.OK, "");
        }
        catch (RpcException ex)
        {
            return (ex.StatusCode, ex.Status.Detail);
        }
    }

    private async Task<string> RefusedAsync(string token)
    {
        var (status, detail) = await CallAsync(token);
        Assert.True(status == StatusCode.Unauthenticated, $"expected Unauthenticated, got {status}: {detail}");
        return detail;
    }

    private async Task AcceptedAsync(string token)
    {
        var (status, detail) = await CallAsync(token);
        Assert.True(status == StatusCode.OK, $"expected OK, got {status}: {detail}");
    }

    [Fact]
    public async Task Each_participant_is_accepted_from_the_issuer_it_is_registered_with_under_any_of_its_keys()
    {
        using var dev = TestTokens.DevKey();
        await AcceptedAsync(ExchangeFactory.Token("acme", "provider"));
        await AcceptedAsync(TestTokens.Sign(dev, TestTokens.Claims(FileIssuer, "acme", ["provider"]), kid: ""));
        await AcceptedAsync(TestTokens.Sign(gateway.SecondFileKey, TestTokens.Claims(FileIssuer, "acme", ["provider"])));
        await AcceptedAsync(gateway.Authority.Mint("initech", "consumer"));
        await AcceptedAsync(TestTokens.Sign(gateway.Authority.Keys[1], TestTokens.Claims(gateway.Authority.Issuer, "initech", ["consumer"])));
    }

    [Fact]
    public async Task The_same_participant_id_from_the_other_issuer_is_refused()
    {
        var detail = await RefusedAsync(gateway.Authority.Mint("acme", "provider"));
        Assert.Contains("registered with another issuer", detail, StringComparison.Ordinal);

        detail = await RefusedAsync(ExchangeFactory.Token("initech", "consumer"));
        Assert.Contains("registered with another issuer", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_participant_registered_with_no_issuer_is_refused_with_a_message_saying_to_register_it()
    {
        var detail = await RefusedAsync(ExchangeFactory.Token("globex", "provider"));
        Assert.Contains("Exchange:Auth:Participants:globex", detail, StringComparison.Ordinal);
        detail = await RefusedAsync(gateway.Authority.Mint("globex", "provider"));
        Assert.Contains("Exchange:Auth:Participants:globex", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_claiming_one_issuer_but_signed_with_the_other_issuers_key_is_refused()
    {
        using var dev = TestTokens.DevKey();
        var authorityKey = gateway.Authority.Keys[0];

        // The authority's key speaking for exchange-dev's participant, with its own kid or none.
        await RefusedAsync(TestTokens.Sign(authorityKey, TestTokens.Claims(FileIssuer, "acme", ["provider"])));
        await RefusedAsync(TestTokens.Sign(authorityKey, TestTokens.Claims(FileIssuer, "acme", ["provider"]), kid: ""));

        // And the key file's key speaking for the authority's participant.
        await RefusedAsync(TestTokens.Sign(dev, TestTokens.Claims(gateway.Authority.Issuer, "initech", ["consumer"])));
        await RefusedAsync(TestTokens.Sign(dev, TestTokens.Claims(gateway.Authority.Issuer, "initech", ["consumer"]), kid: ""));
    }

    [Fact]
    public async Task A_token_whose_kid_names_another_trusted_key_than_the_one_that_signed_it_is_refused()
    {
        using var dev = TestTokens.DevKey();
        await RefusedAsync(TestTokens.Sign(dev, TestTokens.Claims(FileIssuer, "acme", ["provider"]), kid: TestTokens.KeyId(gateway.SecondFileKey)));
        await RefusedAsync(TestTokens.Sign(gateway.Authority.Keys[0], TestTokens.Claims(gateway.Authority.Issuer, "initech", ["consumer"]),
            kid: TestTokens.KeyId(gateway.Authority.Keys[1])));
        await RefusedAsync(TestTokens.Sign(dev, TestTokens.Claims(FileIssuer, "acme", ["provider"]), kid: "no-such-key"));
    }

    [Theory]
    [InlineData("--Exchange:Auth:Participants:acme=https://elsewhere.example", "'https://elsewhere.example' is not a configured issuer")]
    [InlineData("--Exchange:Auth:Participants:Acme Corp=exchange-dev", "'Acme Corp' is not a participant id")]
    [InlineData("--Exchange:Auth:Issuer=https://idp.exchange.test/", "must differ")]
    public async Task A_participant_map_or_issuers_that_cannot_work_stop_the_start(string setting, string expected)
    {
        var (exit, error) = await Exchange.Tests.Smoke.Tools.RunServerToExitAsync("Development",
            $"--Exchange:DataDirectory={Path.Combine(Path.GetTempPath(), "exchange-issuers", Guid.NewGuid().ToString("N"))}",
            $"--Exchange:Auth:Authority={OidcAuthority.Address}", setting);
        Assert.Equal(1, exit);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }
}
