using System.Security.Cryptography;
using Exchange.Cli;
using Exchange.Tests.Infrastructure;
using Grpc.Core;

namespace Exchange.Tests.Security;

/// <summary>Token signing keys change while the gateway runs: a new key is accepted, a removed one refused, without a restart.</summary>
public sealed class SigningKeyRotationTests : IDisposable
{
    private readonly string _keys = Path.Combine(Path.GetTempPath(), "exchange-keys", Guid.NewGuid().ToString("N"));
    private readonly string _newPrivateKey = Path.Combine(Path.GetTempPath(), $"exchange-new-key-{Guid.NewGuid():N}.pem");

    public void Dispose()
    {
        Directory.Delete(_keys, recursive: true);
        File.Delete(_newPrivateKey);
    }

    [Fact]
    public async Task A_key_put_in_place_is_accepted_and_a_removed_key_refused_without_a_restart()
    {
        Directory.CreateDirectory(_keys);
        var oldPublic = Path.Combine(_keys, "old.pem");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "certs-dev", "jwt-signing.pub"), oldPublic);
        using var factory = ExchangeFactory.With(("Exchange:Auth:SigningKeyFiles:0", _keys), ("Exchange:Auth:KeyRefreshInterval", "00:00:00.100"));
        using var newKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await File.WriteAllTextAsync(_newPrivateKey, newKey.ExportPkcs8PrivateKeyPem());
        var oldToken = ExchangeFactory.Token("acme", "provider");
        var newToken = DevTokens.Mint(_newPrivateKey, "acme", ["provider"], TimeSpan.FromMinutes(5));

        Assert.Equal(StatusCode.OK, await Rpc.ListDatasetsStatusAsync(factory, oldToken));
        Assert.Equal(StatusCode.Unauthenticated, await Rpc.ListDatasetsStatusAsync(factory, newToken));

        await File.WriteAllTextAsync(Path.Combine(_keys, "new.pem"), newKey.ExportSubjectPublicKeyInfoPem());
        await EventuallyAsync(factory, newToken, StatusCode.OK);
        Assert.Equal(StatusCode.OK, await Rpc.ListDatasetsStatusAsync(factory, oldToken));

        // A half-written file beside them does not keep a removed key alive.
        await File.WriteAllTextAsync(Path.Combine(_keys, "half-written.pem"), "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE");
        File.Delete(oldPublic);
        await EventuallyAsync(factory, oldToken, StatusCode.Unauthenticated);
        Assert.Equal(StatusCode.OK, await Rpc.ListDatasetsStatusAsync(factory, newToken));

        // A key replaced in place with the same length and timestamp (a copy that keeps times, a symlink swapped) is seen by content.
        var newPublic = Path.Combine(_keys, "new.pem");
        var stamp = File.GetLastWriteTimeUtc(newPublic);
        using var replacement = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await File.WriteAllTextAsync(newPublic, replacement.ExportSubjectPublicKeyInfoPem());
        File.SetLastWriteTimeUtc(newPublic, stamp);
        await File.WriteAllTextAsync(_newPrivateKey, replacement.ExportPkcs8PrivateKeyPem());
        var replacementToken = DevTokens.Mint(_newPrivateKey, "acme", ["provider"], TimeSpan.FromMinutes(5));
        await EventuallyAsync(factory, replacementToken, StatusCode.OK);
        Assert.Equal(StatusCode.Unauthenticated, await Rpc.ListDatasetsStatusAsync(factory, newToken));
    }

    private static async Task EventuallyAsync(ExchangeFactory factory, string token, StatusCode expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        StatusCode got;
        while ((got = await Rpc.ListDatasetsStatusAsync(factory, token)) != expected)
        {
            Assert.True(DateTime.UtcNow < deadline, $"still {got}, not {expected}, 5 s after the key files changed");
            await Task.Delay(50);
        }
    }
}
