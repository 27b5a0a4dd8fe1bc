using Exchange.V1;

namespace Exchange.Server.Tables;

/// <summary>
/// A view's row filter, compiled once against the table's columns: literals parsed to the column's
/// type, each comparison reading only its own column. Three-valued, as SQL: a null value, or one not
/// of the column's type, makes a comparison unknown (null), and only a true filter delivers a row.
/// </summary>
internal sealed class RowFilter
{
    private delegate bool Parse<T>(ReadOnlySpan<char> text, out T value);

    private readonly Func<ITableReader, bool?> _evaluate;

    public RowFilter(Predicate predicate, IReadOnlyList<Column> columns) => _evaluate = Compile(predicate, columns);

    /// <summary>Whether the current row of <paramref name="row"/> is delivered.</summary>
    public bool Includes(ITableReader row) => _evaluate(row) == true;

    private static Func<ITableReader, bool?> Compile(Predicate predicate, IReadOnlyList<Column> columns)
    {
        switch (predicate.KindCase)
        {
            case Predicate.KindOneofCase.All:
                return Combine(predicate.All.Predicates, decisive: false, columns);
            case Predicate.KindOneofCase.Any:
                return Combine(predicate.Any.Predicates, decisive: true, columns);
            case Predicate.KindOneofCase.Not:
                var operand = Compile(predicate.Not, columns);
                return row => !operand(row);
            default:
                return Comparison(predicate.Comparison, columns);
        }
    }

    /// <summary>
    /// `all` (decided by a false operand) or `any` (by a true one): an operand of the deciding value
    /// answers at once; otherwise one unknown operand leaves the answer unknown.
    /// </summary>
    private static Func<ITableReader, bool?> Combine(IEnumerable<Predicate> predicates, bool decisive, IReadOnlyList<Column> columns)
    {
        var operands = predicates.Select(p => Compile(p, columns)).ToArray();
        return row =>
        {
            bool? result = !decisive;
            foreach (var operand in operands)
            {
                var value = operand(row);
                if (value == decisive)
                {
                    return decisive;
                }

                result = value is null ? null : result;
            }

            return result;
        };
    }

    private static Func<ITableReader, bool?> Comparison(Comparison comparison, IReadOnlyList<Column> columns)
    {
        var index = columns.Select(c => c.Name).ToList().IndexOf(comparison.Column);
        var op = comparison.Operator;
        if (op == ComparisonOperator.IsNull)
        {
            return row => row[index].IsEmpty;
        }

        if (op == ComparisonOperator.Prefix)
        {
            var prefix = comparison.Values[0];
            return row => row[index] is { IsEmpty: false } value ? value.StartsWith(prefix, StringComparison.Ordinal) : null;
        }

        return columns[index].Type switch
        {
            ColumnType.Int64 => Typed<long>(index, op, comparison.Values, ColumnValues.TryInt64),
            ColumnType.Decimal => Typed<decimal>(index, op, comparison.Values, ColumnValues.TryDecimal),
            ColumnType.Double => Typed<double>(index, op, comparison.Values, ColumnValues.TryDouble),
            ColumnType.Bool => Typed<bool>(index, op, comparison.Values, ColumnValues.TryBool),
            ColumnType.Date => Typed<DateOnly>(index, op, comparison.Values, ColumnValues.TryDate),
            ColumnType.Timestamp => Typed<DateTimeOffset>(index, op, comparison.Values, ColumnValues.TryTimestamp),
            _ => Typed<string>(index, op, comparison.Values, null),
        };
    }

    private static Func<ITableReader, bool?> Typed<T>(int index, ComparisonOperator op, IList<string> values, Parse<T>? parse)
        where T : IComparable<T>
    {
        if (parse is null)
        {
            return Text(index, op, values);
        }

        var literals = values.Select(v => parse(v, out var parsed) ? parsed : throw new ArgumentException($"'{v}' was validated as a value", nameof(values))).ToArray();
        var literal = literals[0];
        var set = op == ComparisonOperator.In ? literals.ToHashSet() : null;
        var accepts = Accepts(op);
        return row =>
        {
            // Null, not of the type, or NaN (which compares below everything): unknown.
            var text = row[index];
            if (text.IsEmpty || !parse(text, out var value) || value is double.NaN)
            {
                return null;
            }

            return set is not null ? set.Contains(value) : accepts(value.CompareTo(literal));
        };
    }

    /// <summary>Strings compare as their text, ordinally; `in` looks its values up without a string per row.</summary>
    private static Func<ITableReader, bool?> Text(int index, ComparisonOperator op, IList<string> values)
    {
        var literal = values[0];
        var set = op == ComparisonOperator.In ? values.ToHashSet(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>() : default;
        var accepts = Accepts(op);
        return row =>
        {
            var text = row[index];
            if (text.IsEmpty)
            {
                return null;
            }

            return op == ComparisonOperator.In ? set.Contains(text) : accepts(text.SequenceCompareTo(literal.AsSpan()));
        };
    }

    private static Func<int, bool> Accepts(ComparisonOperator op) => op switch
    {
        ComparisonOperator.Equal or ComparisonOperator.In => c => c == 0,
        ComparisonOperator.NotEqual => c => c != 0,
        ComparisonOperator.Less => c => c < 0,
        ComparisonOperator.LessOrEqual => c => c <= 0,
        ComparisonOperator.Greater => c => c > 0,
        _ => c => c >= 0,
    };
}
