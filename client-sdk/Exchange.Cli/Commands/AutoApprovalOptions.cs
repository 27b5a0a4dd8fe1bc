using System.CommandLine;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Cli.Commands;

/// <summary>
/// A dataset's automatic approval: requests for one of the --auto-allow purposes, asking no more
/// than --auto-max-transfers downloads (and ending by --auto-until), are approved at once.
/// </summary>
internal sealed class AutoApprovalOptions
{
    public Option<string[]> Allow { get; } = new("--auto-allow") { Description = "A purpose approved automatically; repeat for several." };

    public Option<long?> MaxTransfers { get; } = new("--auto-max-transfers") { Description = "The most downloads approved automatically (0 = any)." };

    public Option<string?> Until { get; } = new("--auto-until") { Description = "The latest end date approved automatically (ISO 8601)." };

    public Option<bool> Off { get; } = new("--no-auto-approval") { Description = "Every request waits for a decision." };

    public void AddTo(Command command)
    {
        command.Add(Allow);
        command.Add(MaxTransfers);
        command.Add(Until);
        command.Add(Off);
    }

    public bool Given(ParseResult parse) =>
        (parse.GetValue(Allow)?.Length ?? 0) > 0 || parse.GetValue(MaxTransfers) is not null || parse.GetValue(Until) is not null || parse.GetValue(Off);

    public Terms? Read(ParseResult parse)
    {
        if (parse.GetValue(Off) || !Given(parse))
        {
            return null;
        }

        var terms = new Terms { MaxTransfers = parse.GetValue(MaxTransfers) ?? 0 };
        terms.Purposes.Add(parse.GetValue(Allow) ?? []);
        if (parse.GetValue(Until) is { } until)
        {
            terms.ExpireTime = DateTimeOffset.TryParse(until, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal, out var at)
                ? Timestamp.FromDateTimeOffset(at)
                : throw new FormatException($"--auto-until '{until}' is not a time such as 2027-01-01T00:00:00Z.");
        }

        return terms;
    }
}
