using System.Diagnostics;
using System.Text.Json;
using Exchange.Tests.Audit;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;

namespace Exchange.Tests.Smoke;

/// <summary>
/// tools/outside-verifier.cjs, a Node.js verifier written from RFC 9162 and the C2SP note spec
/// alone (no shared code), accepts the real server's checkpoints and proofs.
/// </summary>
[Trait("Category", "Slow")]
public sealed class OutsideVerifierTests(ServerProcess server) : IClassFixture<ServerProcess>
{
    [SkippableFact]
    public async Task An_independent_verifier_accepts_our_checkpoint_root_and_every_proof()
    {
        var script = Path.Combine(Tools.RepositoryRoot(), "tools", "outside-verifier.cjs");
        var modules = Path.Combine(Tools.RepositoryRoot(), "tools", "node_modules", "@grpc", "grpc-js");
        if (!Directory.Exists(modules))
        {
            Assert.False(Tools.Required, "tools/node_modules is required (EXCHANGE_REQUIRE_BACKENDS=1); run: npm ci --prefix tools");
            Skip.If(true, "Node modules not installed: run `npm ci --prefix tools` to run the outside verifier.");
        }

        using var acme = server.ClientFor(Participant.Acme);
        for (var i = 0; i < 7; i++)
        {
            await CatalogFixture.CreateAsync(acme, i % 2 == 0 ? DatasetState.Listed : DatasetState.Draft, title: $"Outside {i}");
        }

        using var auditor = server.ClientFor(Participant.Auditor);
        var size = (await auditor.AllEventsAsync()).Count;
        await auditor.CheckpointCoveringAsync(size);

        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { script, $"127.0.0.1:{server.Port}", server.CaFile, ExchangeFactory.Token("audit-co", "auditor") })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);

        Assert.True(process.ExitCode == 0, $"outside verifier failed: {await output} {await error}");
        using var summary = JsonDocument.Parse(await output);
        var result = summary.RootElement;
        Assert.True(result.GetProperty("ok").GetBoolean());
        Assert.True(result.GetProperty("rootMatches").GetBoolean());
        Assert.True(result.GetProperty("size").GetInt32() >= size);
        Assert.Equal(result.GetProperty("size").GetInt32(), result.GetProperty("inclusionOk").GetInt32());
        Assert.Equal(result.GetProperty("size").GetInt32() - 1, result.GetProperty("consistencyOk").GetInt32());
    }
}
