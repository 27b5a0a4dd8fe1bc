using System.CommandLine;
using Exchange.V1;

namespace Exchange.Cli.Commands;

/// <summary><c>exchange participants get|list|suspend|reinstate</c>.</summary>
internal static class ParticipantsCommand
{
    public static Command Create(CliApp app)
    {
        var command = new Command("participants", "See participants' states; operators suspend and reinstate participants.");
        command.Add(Get(app));
        command.Add(List(app));
        command.Add(Suspend(app));
        command.Add(Reinstate(app));
        return command;
    }

    private static Argument<string> NameArgument() =>
        new("name") { Description = "The participant, e.g. participants/initech (or just initech)." };

    /// <summary>A bare participant id is taken as its resource name.</summary>
    private static string Name(ParseResult parse, Argument<string> name)
    {
        var value = parse.GetValue(name) ?? "";
        return value.Contains('/', StringComparison.Ordinal) ? value : $"participants/{value}";
    }

    private static Command Get(CliApp app)
    {
        var name = NameArgument();
        var command = new Command("get", "Show a participant's state (yourself; auditors and operators: anyone).") { name };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var participant = (await client.Participants.GetParticipantAsync(new GetParticipantRequest { Name = Name(parse, name) },
                cancellationToken: cancellationToken)).Participant;
            Print(app, parse, participant);
            return 0;
        }));
        return command;
    }

    private static Command List(CliApp app)
    {
        var state = new Option<string?>("--state") { Description = "active or suspended." };
        var command = new Command("list", "List the participants an operator ever suspended, and their state now (auditors and operators).") { state };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var filter = new ListParticipantsRequest { State = Render.ParseEnumOption<ParticipantState>(parse.GetValue(state), "--state") };
            var participants = new List<Participant>();
            await foreach (var participant in client.EnumerateParticipantsAsync(filter, cancellationToken))
            {
                participants.Add(participant);
            }

            if (parse.GetValue(app.Json))
            {
                Render.JsonArray(app.Output, participants);
            }
            else
            {
                Render.ParticipantTable(app.Output, participants);
            }

            return 0;
        }));
        return command;
    }

    private static Command Suspend(CliApp app)
    {
        var name = NameArgument();
        var reason = new Option<string>("--reason") { Description = "Why; the participant and the audit log see it.", Required = true };
        var command = new Command("suspend", "Refuse every call of a participant until it is reinstated (operators).") { name, reason };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var participant = (await client.Participants.SuspendParticipantAsync(
                new SuspendParticipantRequest { Name = Name(parse, name), Reason = parse.GetValue(reason) ?? "" },
                cancellationToken: cancellationToken)).Participant;
            Print(app, parse, participant);
            return 0;
        }));
        return command;
    }

    private static Command Reinstate(CliApp app)
    {
        var name = NameArgument();
        var reason = new Option<string?>("--reason") { Description = "Optional; recorded in the audit log." };
        var command = new Command("reinstate", "Lift a participant's suspension (operators).") { name, reason };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var participant = (await client.Participants.ReinstateParticipantAsync(
                new ReinstateParticipantRequest { Name = Name(parse, name), Reason = parse.GetValue(reason) ?? "" },
                cancellationToken: cancellationToken)).Participant;
            Print(app, parse, participant);
            return 0;
        }));
        return command;
    }

    private static void Print(CliApp app, ParseResult parse, Participant participant)
    {
        if (parse.GetValue(app.Json))
        {
            Render.Json(app.Output, participant);
        }
        else
        {
            Render.ParticipantDetail(app.Output, participant);
        }
    }
}
