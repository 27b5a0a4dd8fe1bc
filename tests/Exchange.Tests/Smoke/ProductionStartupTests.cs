namespace Exchange.Tests.Smoke;

/// <summary>The real binary, anywhere but Development, refuses the public certs-dev keys and a key-encryption key beside the data.</summary>
[Trait("Category", "Slow")]
public sealed class ProductionStartupTests
{
    [Theory]
    [InlineData("no keys at all", "No token signing keys are configured")]
    [InlineData("dev keys", "development key")]
    [InlineData("a copy of a dev key in a key folder", "development key")]
    public async Task Production_refuses_to_start_without_keys_of_its_own(string setup, string expected)
    {
        var data = Path.Combine(Path.GetTempPath(), "exchange-prod", Guid.NewGuid().ToString("N"));
        var args = new List<string> { $"--Exchange:DataDirectory={data}" };
        if (setup == "dev keys")
        {
            args.AddRange(["--Exchange:Auth:Issuer=corp", "--Exchange:Auth:SigningKeyFiles:0=certs-dev/jwt-signing.pub"]);
        }

        if (setup == "a copy of a dev key in a key folder")
        {
            var folder = Path.Combine(Path.GetTempPath(), "exchange-prod-keys", Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(folder);
            File.Copy(Path.Combine(Tools.ServerBinaries(), "certs-dev", "jwt-signing.pub"), Path.Combine(folder, "signing.pem"));
            args.AddRange(["--Exchange:Auth:Issuer=corp", $"--Exchange:Auth:SigningKeyFiles:0={folder}"]);
        }

        var (exit, message) = await Tools.RunServerToExitAsync("Production", [.. args]);

        Assert.Equal(1, exit);
        Assert.Contains(expected, message);
        Assert.DoesNotContain("   at ", message);
        Assert.False(Directory.Exists(data), "nothing is created before the configuration is accepted");
    }

    [Theory]
    [InlineData("Staging", "dev keys", "development key")]
    [InlineData("Production", "no key-encryption key", "Exchange:Encryption:KeyFiles")]
    [InlineData("Production", "the dev CA as client CA", "Exchange:Tls:ClientCaFile")]
    [InlineData("Qa", "the dev token key as a certificate", "development key")]
    [InlineData("Production", "keys of its own", "Exchange:Audit:SigningKeyFile")]
    public async Task Outside_development_the_gateway_refuses_dev_material_and_an_unconfigured_key_encryption_key(
        string environment, string setup, string expected)
    {
        var data = Path.Combine(Path.GetTempPath(), "exchange-prod", Guid.NewGuid().ToString("N"));
        var keys = Path.Combine(Path.GetTempPath(), "exchange-prod-keys", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(keys);
        try
        {
            using var own = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
            await File.WriteAllTextAsync(Path.Combine(keys, "signing.pem"), own.ExportSubjectPublicKeyInfoPem());
            await File.WriteAllTextAsync(Path.Combine(keys, "kek.key"), Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
            var args = new List<string>
            {
                $"--Exchange:DataDirectory={data}", "--Exchange:Auth:Issuer=corp", $"--Exchange:Auth:SigningKeyFiles:0={keys}/signing.pem",
                $"--Exchange:Encryption:KeyFiles:k1={keys}/kek.key",
            };
            switch (setup)
            {
                case "dev keys":
                    args.Add("--Exchange:Auth:SigningKeyFiles:1=certs-dev/jwt-signing.pub");
                    break;
                case "no key-encryption key":
                    args.RemoveAll(a => a.StartsWith("--Exchange:Encryption", StringComparison.Ordinal));
                    break;
                case "the dev CA as client CA":
                    args.AddRange(["--Exchange:Tls:ClientCertificates=required", "--Exchange:Tls:ClientCaFile=certs-dev/ca.crt"]);
                    break;
                case "the dev token key as a certificate":
                    using (var dev = System.Security.Cryptography.ECDsa.Create())
                    {
                        dev.ImportFromPem(await File.ReadAllTextAsync(Path.Combine(Tools.ServerBinaries(), "certs-dev", "jwt-signing.key")));
                        using var certificate = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=corp", dev,
                            System.Security.Cryptography.HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
                        await File.WriteAllTextAsync(Path.Combine(keys, "corp.crt"), certificate.ExportCertificatePem());
                    }

                    args.Add($"--Exchange:Auth:SigningKeyFiles:0={keys}");
                    break;
            }

            var (exit, message) = await Tools.RunServerToExitAsync(environment, [.. args]);
            Assert.Equal(1, exit);
            Assert.Contains(expected, message);
            Assert.DoesNotContain("   at ", message);
            if (setup == "keys of its own")
            {
                // The guard lets it through: what stops it (so the test needs no listener) is the missing audit key, a later check.
                Assert.DoesNotContain("development", message);
            }
            else
            {
                Assert.False(Directory.Exists(data), "nothing is created before the configuration is accepted");
            }
        }
        finally
        {
            Directory.Delete(keys, recursive: true);
        }
    }

    [Fact]
    public async Task A_gateway_that_cannot_start_says_why_in_one_line_and_exits_1()
    {
        using var busy = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        busy.Start();
        var port = ((System.Net.IPEndPoint)busy.LocalEndpoint).Port;
        var data = Path.Combine(Path.GetTempPath(), "exchange-busy", Guid.NewGuid().ToString("N"));

        var (exit, message) = await Tools.RunServerToExitAsync("Development", $"--Exchange:DataDirectory={data}", "--urls", $"https://127.0.0.1:{port}");

        Assert.Equal(1, exit);
        Assert.Contains($"Exchange cannot start: Failed to bind to address https://127.0.0.1:{port}: address already in use.", message);
        Assert.Contains("--urls", message);
        Assert.DoesNotContain("   at ", message);
        Assert.Single(message.Split('\n'), line => line.Contains("address already in use", StringComparison.Ordinal));
        Directory.Delete(data, recursive: true);
    }
}
