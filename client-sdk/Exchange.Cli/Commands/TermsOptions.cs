using System.CommandLine;
using System.Globalization;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Cli.Commands;

/// <summary>
/// The options that describe <see cref="Terms"/>: --allow (purposes), --expires or --for, --max-transfers, a view: --columns, --where,
/// --mask (<see cref="ViewSyntax"/>), an analysis rule (--compute and the rest), and --derivation.
/// </summary>
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

    public Option<bool> Compute { get; } = new("--compute") { Description = "Queries only (a COMPUTE grant): no downloads; needs an analysis rule." };

    public Option<string[]> Dimensions { get; } = new("--dimension")
    {
        Description = "A column queries may group and filter on, e.g. city; repeat or separate with commas.",
    };

    public Option<string[]> Aggregates { get; } = new("--aggregate")
    {
        Description = "A column queries may aggregate and how: amount=sum,avg,count,count-distinct,min,max[:lower..upper] (the range clamps sums under privacy).",
    };

    public Option<string?> Identity { get; } = new("--identity") { Description = "The column saying whose a row is (thresholds count its distinct values)." };

    public Option<long?> MinIdentities { get; } = new("--min-identities") { Description = "The fewest identities behind an output row (default 10)." };

    public Option<string?> Epsilon { get; } = new("--epsilon") { Description = "Differential privacy: epsilon per query, e.g. 0.25." };

    public Option<string?> Budget { get; } = new("--budget") { Description = "Differential privacy: the grant's total epsilon, e.g. 2." };

    public Option<long?> MaxRows { get; } = new("--max-rows-per-identity") { Description = "Differential privacy: rows one identity may contribute to a query (default 1)." };

    public Option<int?> DeltaExponent { get; } = new("--delta-exponent")
    {
        Description = "Differential privacy: delta = 10^-n, the chance a group one identity makes is released (default 6, from 3 to 15).",
    };

    public Option<string?> Derivation { get; } = new("--derivation")
    {
        Description = "Whether the consumer may publish datasets derived from the data: no, yes, or survive "
            + "(yes, and derived datasets stay downloadable after the grant is revoked). In an approval, no drops it.",
    };

    public void AddTo(Command command)
    {
        command.Add(Derivation);
        command.Add(Compute);
        command.Add(Dimensions);
        command.Add(Aggregates);
        command.Add(Identity);
        command.Add(MinIdentities);
        command.Add(Epsilon);
        command.Add(Budget);
        command.Add(MaxRows);
        command.Add(DeltaExponent);
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
        var compute = parse.GetValue(Compute);
        var analysis = ReadAnalysis(parse);
        var derivation = parse.GetValue(Derivation) switch
        {
            null => null,
            "no" => new DerivationTerms(),
            "yes" => new DerivationTerms { Allowed = true },
            "survive" => new DerivationTerms { Allowed = true, DescendantsSurviveRevocation = true },
            var other => throw new FormatException($"--derivation '{other}' is not no, yes or survive."),
        };
        if (purposes.Length == 0 && expires is null && lasting is null && max is null && view is null && !compute && analysis is null && derivation is null)
        {
            return null;
        }

        var terms = new Terms
        {
            MaxTransfers = max ?? 0,
            View = view,
            Kind = compute ? GrantKind.Compute : GrantKind.Unspecified,
            Analysis = analysis,
            Derivation = derivation,
        };
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

    private AnalysisRule? ReadAnalysis(ParseResult parse)
    {
        var dimensions = (parse.GetValue(Dimensions) ?? []).SelectMany(d => d.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        var aggregates = parse.GetValue(Aggregates) ?? [];
        var identity = parse.GetValue(Identity);
        var minimum = parse.GetValue(MinIdentities);
        var epsilon = parse.GetValue(Epsilon);
        var budget = parse.GetValue(Budget);
        var maxRows = parse.GetValue(MaxRows);
        var delta = parse.GetValue(DeltaExponent);
        if (dimensions.Count == 0 && aggregates.Length == 0 && identity is null && minimum is null && epsilon is null && budget is null && maxRows is null
            && delta is null)
        {
            return null;
        }

        var rule = new AnalysisRule { IdentityColumn = identity ?? "", MinIdentities = minimum ?? 0 };
        rule.Dimensions.Add(dimensions);
        rule.Aggregates.Add(aggregates.Select(Aggregate));
        if (epsilon is not null || budget is not null || maxRows is not null || delta is not null)
        {
            if (epsilon is null || budget is null)
            {
                throw new FormatException("Differential privacy needs both --epsilon (per query) and --budget (in all).");
            }

            rule.Privacy = new DifferentialPrivacy
            {
                QueryEpsilonMillis = Millis(epsilon, "--epsilon"),
                BudgetEpsilonMillis = Millis(budget, "--budget"),
                MaxRowsPerIdentity = maxRows ?? 0,
                DeltaExponent = delta ?? 0,
            };
        }

        return rule;
    }

    /// <summary>amount=sum,avg[:0..1000] as an aggregate column.</summary>
    private static AggregateColumn Aggregate(string text)
    {
        var parts = text.Split('=', 2, StringSplitOptions.TrimEntries);
        if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
        {
            throw new FormatException($"--aggregate '{text}' is not column=functions, e.g. amount=sum,avg.");
        }

        var functions = parts[1];
        var aggregate = new AggregateColumn { Column = parts[0] };
        var range = functions.IndexOf(':', StringComparison.Ordinal);
        if (range >= 0)
        {
            var bounds = functions[(range + 1)..].Split("..", StringSplitOptions.TrimEntries);
            if (bounds.Length != 2 || !long.TryParse(bounds[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var lower)
                || !long.TryParse(bounds[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var upper))
            {
                throw new FormatException($"--aggregate '{text}': the range is lower..upper in whole numbers, e.g. :0..1000.");
            }

            (aggregate.Lower, aggregate.Upper) = (lower, upper);
            functions = functions[..range];
        }

        foreach (var name in functions.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            aggregate.Functions.Add(name.ToUpperInvariant().Replace('-', '_') switch
            {
                "COUNT" => AggregateFunction.Count,
                "COUNT_DISTINCT" => AggregateFunction.CountDistinct,
                "SUM" => AggregateFunction.Sum,
                "AVG" => AggregateFunction.Avg,
                "MIN" => AggregateFunction.Min,
                "MAX" => AggregateFunction.Max,
                _ => throw new FormatException($"--aggregate '{text}': '{name}' is not count, count-distinct, sum, avg, min or max."),
            });
        }

        return aggregate;
    }

    /// <summary>Epsilon as the contract carries it, in thousandths: "0.25" → 250.</summary>
    public static long Millis(string text, string option) =>
        decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) && value > 0 && value <= 1_000_000_000
            && value * 1000 == decimal.Truncate(value * 1000)
            ? (long)(value * 1000)
            : throw new FormatException($"{option} '{text}' is not a positive number (at most 1000000000) with at most three decimals, e.g. 0.25.");
}
