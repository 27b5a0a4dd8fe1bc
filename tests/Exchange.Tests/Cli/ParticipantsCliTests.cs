using System.Text.Json;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;

namespace Exchange.Tests.Cli;

/// <summary><c>exchange participants …</c> against an in-process gateway.</summary>
public sealed class ParticipantsCliTests : IDisposable
{
    private readonly ExchangeFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    private Task<(int Exit, string Out, string Err)> Run(Participant who, params string[] args) => _factory.RunCliAsync(who, args);

    [Fact]
    public async Task An_operator_suspends_lists_and_reinstates_and_the_suspended_participant_is_told_why()
    {
        var (exit, output, error) = await Run(Participant.Operator, "--json", "participants", "suspend", "initech", "--reason", "fraud inquiry");
        Assert.True(exit == 0, error);
        using (var json = JsonDocument.Parse(output))
        {
            Assert.Equal("PARTICIPANT_STATE_SUSPENDED", json.RootElement.GetProperty("state").GetString());
            Assert.Equal("fraud inquiry", json.RootElement.GetProperty("suspendReason").GetString());
        }

        (exit, output, error) = await Run(Participant.Initech, "datasets", "list");
        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.Contains("PermissionDenied", error, StringComparison.Ordinal);
        Assert.Contains("fraud inquiry", error, StringComparison.Ordinal);

        (exit, output, error) = await Run(Participant.Auditor, "participants", "list", "--state", "suspended");
        Assert.True(exit == 0, error);
        Assert.Contains("participants/initech", output, StringComparison.Ordinal);
        Assert.Contains("SUSPENDED", output, StringComparison.Ordinal);
        Assert.Contains("1 participant", output, StringComparison.Ordinal);

        (exit, output, error) = await Run(Participant.Operator, "participants", "get", "participants/initech");
        Assert.True(exit == 0, error);
        Assert.Contains("fraud inquiry", output, StringComparison.Ordinal);

        (exit, _, error) = await Run(Participant.Acme, "participants", "suspend", "umbrella", "--reason", "competition");
        Assert.Equal(1, exit);
        Assert.Contains("PermissionDenied", error, StringComparison.Ordinal);

        (exit, output, error) = await Run(Participant.Operator, "participants", "reinstate", "initech", "--reason", "cleared");
        Assert.True(exit == 0, error);
        Assert.Contains("ACTIVE", output, StringComparison.Ordinal);
        (exit, _, error) = await Run(Participant.Initech, "datasets", "list");
        Assert.True(exit == 0, error);

        (exit, output, error) = await Run(Participant.Umbrella, "participants", "get", "umbrella");
        Assert.True(exit == 0, error);
        Assert.Contains("ACTIVE", output, StringComparison.Ordinal);
        Assert.Contains("never changed by an operator", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_hostile_suspension_reason_is_printed_escaped()
    {
        using var ops = _factory.As(Participant.Operator);
        await ops.Participants.SuspendParticipantAsync(new SuspendParticipantRequest { Name = "participants/initech", Reason = "ok" });
        var proxy = new RewritingProxy(_factory.Server.CreateHandler())
            .On<ListParticipantsResponse>("exchange.v1.ParticipantService/ListParticipants", r =>
            {
                foreach (var p in r.Participants)
                {
                    p.SuspendReason = RenderTests.Hostile;
                }
            });
        var (exit, output, error) = await ExchangeFactory.RunCliAsync(proxy,
            ["--server", _factory.Server.BaseAddress.ToString(), "--token", ExchangeFactory.Token(Participant.Auditor.Id, Participant.Auditor.Roles),
             "participants", "list"]);
        Assert.True(exit == 0, error);
        RenderTests.AssertPrintable(output);
        Assert.Contains(RenderTests.Escaped, output, StringComparison.Ordinal);
    }
}
