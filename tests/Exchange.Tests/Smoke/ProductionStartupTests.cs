using System.Diagnostics;

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
        var serverDirectory = Tools.ServerBinaries();
        var data = Path.Combine(Path.GetTempPath(), "exchange-prod", Guid.NewGuid().ToString("N"));
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = serverDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("Exchange.Server.dll");
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add("https://127.0.0.1:0");
        start.ArgumentList.Add($"--Exchange:DataDirectory={data}");
        if (setup == "dev keys")
        {
            start.ArgumentList.Add("--Exchange:Auth:Issuer=corp");
            start.ArgumentList.Add("--Exchange:Auth:SigningKeyFiles:0=certs-dev/jwt-signing.pub");
        }

        if (setup == "a copy of a dev key in a key folder")
        {
            var folder = Path.Combine(Path.GetTempPath(), "exchange-prod-keys", Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(folder);
            File.Copy(Path.Combine(serverDirectory, "certs-dev", "jwt-signing.pub"), Path.Combine(folder, "signing.pem"));
            start.ArgumentList.Add("--Exchange:Auth:Issuer=corp");
            start.ArgumentList.Add($"--Exchange:Auth:SigningKeyFiles:0={folder}");
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);

        Assert.Equal(1, process.ExitCode);
        var message = await error;
        Assert.Contains(expected, message);
        Assert.DoesNotContain("   at ", message);
        Assert.False(Directory.Exists(data), "nothing is created before the configuration is accepted");
    }
}
