using System.Xml.Linq;
using Exchange.Tests.Infrastructure;
using Exchange.Tests.Smoke;

namespace Exchange.Tests.Cli;

/// <summary>The <c>exchange</c> .NET tool: what it carries (never a private key) and how it finds the dev signing key.</summary>
public sealed class ToolPackageTests
{
    private static string Project => Path.Combine(Tools.RepositoryRoot(), "client-sdk", "Exchange.Cli", "Exchange.Cli.csproj");

    [Fact]
    public void The_cli_is_a_dotnet_tool_named_exchange()
    {
        var properties = XDocument.Load(Project).Descendants("PropertyGroup").Elements().ToDictionary(e => e.Name.LocalName, e => e.Value);
        Assert.Equal("true", properties["PackAsTool"]);
        Assert.Equal("exchange", properties["ToolCommandName"]);
        Assert.Equal("Exchange.Cli", properties["PackageId"]);
    }

    [Fact]
    public void Neither_the_project_nor_the_tools_build_output_carries_a_private_key()
    {
        // Every file the project adds (None, Content…) is in the package when copied to the output or packed.
        var added = XDocument.Load(Project).Descendants("ItemGroup").Elements()
            .Where(e => e.Name.LocalName is not ("PackageReference" or "ProjectReference" or "InternalsVisibleTo"))
            .Select(e => (string?)e.Attribute("Include") ?? "");
        Assert.DoesNotContain(added, include => include.EndsWith(".key", StringComparison.OrdinalIgnoreCase) || include.Contains('*', StringComparison.Ordinal));

        // What the pack takes: the tool's build output (of the configuration these tests were built in).
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var output = Path.Combine(Tools.RepositoryRoot(), "client-sdk", "Exchange.Cli", "bin", configuration, "net10.0");
        Assert.True(File.Exists(Path.Combine(output, "exchange.dll")), $"no tool build in {output}");
        Assert.Empty(Directory.EnumerateFiles(output, "*.key", SearchOption.AllDirectories));
        Assert.DoesNotContain(Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories),
            f => !f.EndsWith(".dll", StringComparison.Ordinal) && File.ReadAllText(f).Contains("PRIVATE KEY-----", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Token_without_a_key_at_hand_says_where_it_looked_and_what_to_pass()
    {
        var missing = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"), "jwt-signing.key");
        var (exit, output, error) = await ExchangeFactory.RunCliAsync(null, ["token", "-p", "acme", "-r", "provider", "--key", missing]);

        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.StartsWith($"error: no signing key: {missing} (from --key) does not exist", error);

        // Found in ./certs-dev (the tests run in their output folder, which has the dev keys).
        (exit, output, error) = await ExchangeFactory.RunCliAsync(null, ["token", "-p", "acme", "-r", "provider"]);
        Assert.True(exit == 0, error);
        Assert.Equal(3, output.Trim().Split('.').Length);
    }
}
