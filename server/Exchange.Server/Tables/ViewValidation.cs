using System.Globalization;
using Exchange.V1;

namespace Exchange.Server.Tables;

/// <summary>
/// Whether a view fits a table: every column it names exists, every literal is a value of its
/// column's type, every mask suits its column. Checked when a view is asked for, approved or
/// offered, against the dataset's latest table, and again against the revision a download sends.
/// </summary>
internal static class ViewValidation
{
    private const int MaxPredicates = 256;
    private const int MaxDepth = 16;
    private const int MaxValues = 1000;

    // Literals across the whole filter: each row is compared with at most this many values.
    private const int MaxLiterals = 4096;

    /// <summary>Throws INVALID_ARGUMENT naming the first part of <paramref name="view"/> (at <paramref name="field"/>) that does not fit <paramref name="columns"/>.</summary>
    public static void Validate(View view, IReadOnlyList<Column> columns, string field)
    {
        var byName = columns.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < view.Columns.Count; i++)
        {
            var name = view.Columns[i];
            Column(byName, name, $"{field}.columns[{i}]");
            if (!seen.Add(name))
            {
                throw Refusal.Invalid($"{field}.columns names '{name}' twice.");
            }
        }

        if (view.RowFilter is { } filter)
        {
            var count = 0;
            Predicate(filter, byName, $"{field}.row_filter", 1, ref count);
            if (Literals(filter) > MaxLiterals)
            {
                throw Refusal.Invalid($"{field}.row_filter compares with more than {MaxLiterals} values in all.");
            }
        }

        var masked = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < view.Masks.Count; i++)
        {
            var mask = view.Masks[i];
            var at = $"{field}.masks[{i}]";
            var column = Column(byName, mask.Column, $"{at}.column");
            if (!masked.Add(mask.Column))
            {
                throw Refusal.Invalid($"{field}.masks has two masks for '{mask.Column}'; a column takes one.");
            }

            Mask(mask, column, at);
        }
    }

    /// <summary>
    /// Throws unless <paramref name="view"/> fits the latest table of <paramref name="dataset"/>
    /// (<paramref name="columns"/>; null when its latest revision is no table: FAILED_PRECONDITION).
    /// </summary>
    public static void ValidateFor(View view, IReadOnlyList<Column>? columns, string dataset, string field)
    {
        if (columns is null)
        {
            throw Refusal.Precondition($"{field}: a view delivers part of a table, and the latest revision of '{dataset}' is not a table.");
        }

        Validate(view, columns, field);
    }

    /// <summary>The mask's bucket width as a number, for a BUCKET mask already validated.</summary>
    public static decimal Width(Mask mask) => decimal.Parse(mask.Width, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);

    private static int Literals(Predicate predicate) => predicate.KindCase switch
    {
        V1.Predicate.KindOneofCase.Comparison => predicate.Comparison.Values.Count,
        V1.Predicate.KindOneofCase.All => predicate.All.Predicates.Sum(Literals),
        V1.Predicate.KindOneofCase.Any => predicate.Any.Predicates.Sum(Literals),
        V1.Predicate.KindOneofCase.Not => Literals(predicate.Not),
        _ => 0,
    };

    private static Column Column(Dictionary<string, Column> columns, string name, string field) =>
        columns.GetValueOrDefault(name)
        ?? throw Refusal.Invalid($"{field}: the table has no column '{name}' (it has {string.Join(", ", columns.Keys.Take(30))}).");

    private static void Predicate(Predicate predicate, Dictionary<string, Column> columns, string field, int depth, ref int count)
    {
        if (++count > MaxPredicates || depth > MaxDepth)
        {
            throw Refusal.Invalid($"{field}: a row filter holds at most {MaxPredicates} predicates, nested at most {MaxDepth} deep.");
        }

        switch (predicate.KindCase)
        {
            case V1.Predicate.KindOneofCase.Comparison:
                Comparison(predicate.Comparison, columns, $"{field}.comparison");
                break;
            case V1.Predicate.KindOneofCase.All or V1.Predicate.KindOneofCase.Any:
                var name = predicate.KindCase == V1.Predicate.KindOneofCase.All ? "all" : "any";
                var operands = predicate.All ?? predicate.Any;
                if (operands.Predicates.Count == 0)
                {
                    throw Refusal.Invalid($"{field}.{name} needs at least one predicate.");
                }

                for (var i = 0; i < operands.Predicates.Count; i++)
                {
                    Predicate(operands.Predicates[i], columns, $"{field}.{name}.predicates[{i}]", depth + 1, ref count);
                }

                break;
            case V1.Predicate.KindOneofCase.Not:
                Predicate(predicate.Not, columns, $"{field}.not", depth + 1, ref count);
                break;
            default:
                throw Refusal.Invalid($"{field} is empty: set a comparison, all, any or not.");
        }
    }

    private static void Comparison(Comparison comparison, Dictionary<string, Column> columns, string field)
    {
        var column = Column(columns, comparison.Column, $"{field}.column");
        var op = comparison.Operator;
        var values = comparison.Values;
        var expected = op switch
        {
            ComparisonOperator.Unspecified => throw Refusal.Invalid($"{field}.operator is required."),
            _ when !Enum.IsDefined(op) => throw Refusal.Invalid($"{field}.operator {(int)op} is not a known operator."),
            ComparisonOperator.IsNull => values.Count == 0 ? null : "no values",
            ComparisonOperator.In => values.Count is >= 1 and <= MaxValues ? null : $"1 to {MaxValues} values",
            _ => values.Count == 1 ? null : "exactly one value",
        };
        if (expected is not null)
        {
            throw Refusal.Invalid($"{field}: {Operator(op)} takes {expected}, not {values.Count}.");
        }

        if (op == ComparisonOperator.Prefix && column.Type != ColumnType.String)
        {
            throw Refusal.Invalid($"{field}: prefix compares strings; '{column.Name}' is {ColumnValues.TypeName(column.Type)}.");
        }

        for (var i = 0; i < values.Count; i++)
        {
            if (values[i].Length == 0 || !ColumnValues.Is(column.Type, values[i]))
            {
                throw Refusal.Invalid($"{field}.values[{i}] '{values[i]}' is not a value of '{column.Name}', which is {ColumnValues.TypeName(column.Type)}.");
            }
        }
    }

    private static void Mask(Mask mask, Column column, string field)
    {
        var type = column.Type;
        var fits = mask.Kind switch
        {
            MaskKind.Redact or MaskKind.Hash => true,
            MaskKind.Truncate => type == ColumnType.String,
            MaskKind.Generalise => type is ColumnType.Date or ColumnType.Timestamp,
            MaskKind.Bucket => type is ColumnType.Int64 or ColumnType.Decimal or ColumnType.Double,
            _ => throw Refusal.Invalid($"{field}.kind is required: redact, hash, truncate, generalise or bucket."),
        };
        if (!fits)
        {
            throw Refusal.Invalid($"{field}: {MaskName(mask.Kind)} does not suit '{column.Name}', which is {ColumnValues.TypeName(type)}.");
        }

        if (mask.Kind == MaskKind.Truncate && mask.Length < 1)
        {
            throw Refusal.Invalid($"{field}.length: truncate keeps at least 1 character.");
        }

        if (mask.Kind == MaskKind.Generalise && mask.Unit is not (DateUnit.Month or DateUnit.Year))
        {
            throw Refusal.Invalid($"{field}.unit: generalise to month or year.");
        }

        if (mask.Kind == MaskKind.Bucket)
        {
            var whole = type == ColumnType.Int64;
            if (!decimal.TryParse(mask.Width, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var width) || width <= 0
                || (whole && (width != decimal.Truncate(width) || width > long.MaxValue)))
            {
                throw Refusal.Invalid($"{field}.width '{mask.Width}' is not a positive {(whole ? "whole number" : "number")} for '{column.Name}'.");
            }
        }

        if (mask.Kind != MaskKind.Truncate && mask.Length != 0 || mask.Kind != MaskKind.Generalise && mask.Unit != DateUnit.Unspecified
            || mask.Kind != MaskKind.Bucket && mask.Width.Length != 0)
        {
            throw Refusal.Invalid($"{field}: {MaskName(mask.Kind)} takes no length, unit or width but its own.");
        }
    }

    public static string MaskName(MaskKind kind) => kind.ToString().ToLowerInvariant();

    private static string Operator(ComparisonOperator op) => op switch
    {
        ComparisonOperator.NotEqual => "not_equal",
        ComparisonOperator.LessOrEqual => "less_or_equal",
        ComparisonOperator.GreaterOrEqual => "greater_or_equal",
        ComparisonOperator.IsNull => "is_null",
        _ => op.ToString().ToLowerInvariant(),
    };
}
