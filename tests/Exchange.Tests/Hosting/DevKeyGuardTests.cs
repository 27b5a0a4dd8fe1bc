using Exchange.Server.Hosting;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;

namespace Exchange.Tests.Hosting;

public sealed class DevKeyGuardTests
{
    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;

        public string ApplicationName { get; set; } = "Exchange.Server";

        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }

    private static ExchangeOptions DevOptions() => new()
    {
        Auth = { Issuer = "exchange-dev", SigningKeyFiles = ["certs-dev/jwt-signing.pub"] },
        Tls = { CertificateFile = "certs-dev/server.crt", KeyFile = "certs-dev/server.key" },
        Audit = { SigningKeyFile = "certs-dev/audit-signing.key" },
    };

    [Fact]
    public void Development_may_use_the_dev_keys() =>
        DevKeyGuard.ThrowIfDevKeysInProduction(new Environment("Development"), DevOptions());

    [Fact]
    public void Production_refuses_the_dev_keys()
    {
        var ex = Assert.Throws<StartupException>(() =>
            DevKeyGuard.ThrowIfDevKeysInProduction(new Environment("Production"), DevOptions()));
        Assert.Contains("certs-dev", ex.Message);
    }

    [Fact]
    public void Production_refuses_a_copy_of_a_dev_key_under_another_name()
    {
        var copy = Path.Combine(Path.GetTempPath(), $"innocent-{Guid.NewGuid():N}.pub");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "certs-dev", "jwt-signing.pub"), copy);
        try
        {
            var options = new ExchangeOptions { Auth = { Issuer = "corp", SigningKeyFiles = [copy] } };
            var ex = Assert.Throws<StartupException>(() =>
                DevKeyGuard.ThrowIfDevKeysInProduction(new Environment("Production"), options));
            Assert.Contains("development key", ex.Message);
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [Fact]
    public void Production_without_any_signing_key_refuses_to_start()
    {
        var ex = Assert.Throws<StartupException>(() =>
            DevKeyGuard.ThrowIfDevKeysInProduction(new Environment("Production"), new ExchangeOptions()));
        Assert.Contains("Exchange:Auth", ex.Message);
    }
}
