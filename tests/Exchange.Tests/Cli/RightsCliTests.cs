using System.Text;
using System.Text.Json;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.Tests.Rights;
using Exchange.V1;

namespace Exchange.Tests.Cli;

/// <summary>
/// The rights workflow as a new user runs it: register a holding right with evidence, see an
/// objection block approval until it is resolved, license a processing-use right, transfer the
/// holding with both sides signing off, and write a certificate that verifies offline, until one
/// byte of it is altered.
/// </summary>
public sealed class RightsCliTests(RightsGateway gateway) : SharedGatewayTests<RightsGateway>(gateway)
{
    private Task<(int Exit, string Out, string Err)> Run(Participant who, params string[] args) => Gateway.RunCliAsync(who, args);

    [Fact]
    public async Task A_right_is_registered_objected_to_approved_licensed_transferred_and_proved_offline()
    {
        using var acme = Gateway.As(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme, withRevision: true);
        var evidence = Path.Combine(Gateway.DataDirectory, "consent.pdf");
        await File.WriteAllTextAsync(evidence, "%PDF-1.7 signed collection consent");

        var (exit, output, error) = await Run(Participant.Acme, "--json", "rights", "register", dataset.Name, "--kind", "holding",
            "--basis", "own-collection", "--evidence", evidence, "--purpose", "research", "--purpose", "forecasting", "--territory", "NO",
            "--end", DateTimeOffset.UtcNow.AddYears(1).ToString("O"));
        Assert.True(exit == 0, error);
        var right = JsonDocument.Parse(output).RootElement.GetProperty("name").GetString()!;

        (exit, output, error) = await Run(Participant.Acme, "rights", "get", right);
        Assert.True(exit == 0, error);
        Assert.Contains("PENDING", output, StringComparison.Ordinal);
        Assert.Contains("application/pdf consent.pdf", output, StringComparison.Ordinal);
        Assert.Contains("notice until", output, StringComparison.Ordinal);

        (exit, output, error) = await Run(Participant.Globex, "rights", "object", right, "--reason", "the stations were ours until 2025");
        Assert.True(exit == 0, error);
        var objection = output.Split(' ')[1];
        (exit, _, error) = await Run(Participant.Operator, "rights", "approve", right);
        Assert.Equal(1, exit);
        Assert.Contains("open objection", error, StringComparison.Ordinal);
        (exit, _, error) = await Run(Participant.Operator, "rights", "resolve", objection, "--dismiss", "--reason", "sold to acme in 2024");
        Assert.True(exit == 0, error);
        (exit, output, error) = await Run(Participant.Operator, "rights", "approve", right);
        Assert.True(exit == 0, error);
        Assert.Contains("ACTIVE", output, StringComparison.Ordinal);

        (exit, output, error) = await Run(Participant.Acme, "--json", "rights", "license", right, "--to", "initech", "--kind", "processing-use",
            "--purpose", "research");
        Assert.True(exit == 0, error);
        var licence = JsonDocument.Parse(output).RootElement.GetProperty("name").GetString()!;

        (exit, _, error) = await Run(Participant.Acme, "rights", "transfer", right, "--to", "globex");
        Assert.True(exit == 0, error);
        (exit, output, error) = await Run(Participant.Globex, "rights", "accept", right);
        Assert.True(exit == 0, error);
        Assert.Matches(@"holder\s+globex", output);

        (exit, output, error) = await Run(Participant.Umbrella, "rights", "list", "--dataset", dataset.Name);
        Assert.True(exit == 0, error);
        Assert.Contains("2 rights", output, StringComparison.Ordinal);

        var certificate = Path.Combine(Gateway.DataDirectory, "licence-certificate.json");
        (exit, output, error) = await Run(Participant.Initech, "rights", "certificate", licence, "-o", certificate);
        Assert.True(exit == 0, error);
        var key = (await acme.Audit.GetCheckpointAsync(new GetCheckpointRequest())).Checkpoint.VerifierKey;

        // Offline: a client that cannot reach any gateway.
        (exit, output, error) = await ExchangeFactory.RunCliAsync(null, ["--server", "https://127.0.0.1:9", "rights", "verify", certificate, "--verifier-key", key]);
        Assert.True(exit == 0, error);
        Assert.StartsWith("OK: ", output, StringComparison.Ordinal);
        Assert.Matches(@"holder\s+initech", output);
        Assert.Contains("purposes: research; territories: NO", output, StringComparison.Ordinal);

        // One byte of the record altered: the check that fails is named.
        var json = await File.ReadAllTextAsync(certificate);
        var record = JsonDocument.Parse(json).RootElement.GetProperty("record").GetString()!;
        var at = json.IndexOf(record, StringComparison.Ordinal) + 12;
        var altered = new StringBuilder(json) { [at] = json[at] == 'A' ? 'B' : 'A' };
        await File.WriteAllTextAsync(certificate, altered.ToString());
        (exit, _, error) = await ExchangeFactory.RunCliAsync(null, ["--server", "https://127.0.0.1:9", "rights", "verify", certificate, "--verifier-key", key]);
        Assert.Equal(1, exit);
        Assert.Contains("verification FAILED (record check)", error, StringComparison.Ordinal);
    }
}
