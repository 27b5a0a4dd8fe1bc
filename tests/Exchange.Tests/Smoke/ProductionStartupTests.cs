namespace Exchange.Tests.Smoke;

/// <summary>The real binary in the Production environment refuses the public certs-dev keys.</summary>
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
}
