using System.CommandLine;
using System.Globalization;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Cli.Commands;

/// <summary>The options that describe <see cref="Terms"/>: --allow (purposes), --expires or --for, --max-transfers, and a view: --columns, --where, --mask (<see cref="ViewSyntax"/>).</summary>
internal sealed class TermsOptions
{
    public Option<string[]> Allow { get; } = new("--allow")
    {
        Description = "A purpose the terms allow; repeat for several.",
    };

    public Option<string?> Expires { get; } = new("--expires") { Description = "When the right ends (ISO 8601, e.g. 2026-12-31T00:00:00Z)." };

    public Option<string?> For { get; } = new("--for") { Description = "How long the right lasts from now: 30d, 12h." };

    public Option<long?> MaxTransfers { get; } = new("--max-transfers") { Description = "How many downloads (0 = unlimited)." };

    public Option<string?> Columns { get; } = new("--columns") { Description = "For a table: the columns delivered, e.g. id,city (default: all)." };

    public Option<string?> Where { get; } = new("--where")
    {
        Description = "For a table: the rows delivered, e.g. \"city = Bergen and (income >= 50000 or income is null)\"; "
            + "= != < <= > >= in (a, b) prefix x is [not] null, and or not, 'quoted values'.",
    };

    public Option<string[]> Masks { get; } = new("--mask")
    {
        Description = "For a table: column=redact|hash|truncate:N|month|year|bucket:W; repeat for several.",
    };

    public void AddTo(Command command)
    {
        command.Add(Allow);
        command.Add(Expires);
        command.Add(For);
        command.Add(MaxTransfers);
        command.Add(Columns);
        command.Add(Where);
        command.Add(Masks);
    }

    /// <summary>The terms the options give, or null when none was given.</summary>
    public Terms? Read(ParseResult parse)
    {
        var purposes = parse.GetValue(Allow) ?? [];
        var expires = parse.GetValue(Expires);
        var lasting = parse.GetValue(For);
        var max = parse.GetValue(MaxTransfers);
        var view = ViewSyntax.Parse(parse.GetValue(Columns), parse.GetValue(Where), parse.GetValue(Masks) ?? []);
        if (purposes.Length == 0 && expires is null && lasting is null && max is null && view is null)
        {
            return null;
        }

        var terms = new Terms { MaxTransfers = max ?? 0, View = view };
        terms.Purposes.Add(purposes);
        if (expires is not null && lasting is not null)
        {
            throw new FormatException("Give --expires or --for, not both.");
        }

        if (expires is not null)
        {
            terms.ExpireTime = DateTimeOffset.TryParse(expires, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
                ? Timestamp.FromDateTimeOffset(at)
                : throw new FormatException($"--expires '{expires}' is not a time such as 2026-12-31T00:00:00Z.");
        }
        else if (lasting is not null)
        {
            terms.ExpireTime = Durations.TryParse(lasting, out var span)
                ? Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow + span)
                : throw new FormatException($"--for '{lasting}' is not a duration such as 30d or 12h.");
        }

        return terms;
    }
}
