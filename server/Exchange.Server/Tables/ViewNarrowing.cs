using Exchange.V1;

namespace Exchange.Server.Tables;

/// <summary>
/// How views compare: a narrower view delivers no column, row or value detail the wider one does
/// not. An approval may drop columns, add conditions to the filter (AND) and mask more strongly;
/// nothing else.
/// </summary>
internal static class ViewNarrowing
{
    /// <summary>
    /// Why <paramref name="narrower"/> delivers more than <paramref name="wider"/> (a message naming
    /// the field at <paramref name="field"/>), or null when it delivers no more. A null view is the whole table.
    /// </summary>
    /// <remarks>
    /// With <c>conditionsOnDeliveredOnly</c>, for a narrower view that is the consumer's own (a
    /// request held to automatic terms), conditions it adds may only name columns the wider view
    /// delivers unmasked: which rows come back would otherwise tell a hidden or masked value
    /// (<c>salary &gt; 100000</c>, <c>email = '…'</c>). A provider narrowing its own grant may filter on anything.
    /// </remarks>
    public static string? Widening(View? wider, View? narrower, string field, bool conditionsOnDeliveredOnly = false)
    {
        if (conditionsOnDeliveredOnly && narrower?.RowFilter is { } added && wider is not null)
        {
            var masked = wider.Masks.Select(m => m.Column).ToHashSet(StringComparer.Ordinal);
            var hidden = Added(wider.RowFilter, added).SelectMany(ColumnsOf)
                .FirstOrDefault(c => masked.Contains(c) || (wider.Columns.Count > 0 && !wider.Columns.Contains(c)));
            if (hidden is not null)
            {
                return $"{field}.row_filter may add conditions only on columns delivered unmasked; '{hidden}' is not";
            }
        }

        if (wider is null)
        {
            return null;
        }

        if (narrower is null)
        {
            return $"{field} is required: the whole table was not asked for, only part of it.";
        }

        if (wider.Columns.Count > 0)
        {
            if (narrower.Columns.Count == 0)
            {
                return $"{field}.columns must name columns among {string.Join(", ", wider.Columns)}; empty means all of them.";
            }

            var extra = narrower.Columns.FirstOrDefault(c => !wider.Columns.Contains(c));
            if (extra is not null)
            {
                return $"{field}.columns may only drop columns; '{extra}' was not among {string.Join(", ", wider.Columns)}.";
            }
        }

        if (wider.RowFilter is { } filter && !Keeps(filter, narrower.RowFilter))
        {
            return $"{field}.row_filter may only add conditions: it must be the requested filter, or all of it and more.";
        }

        var delivered = narrower.Columns.Count == 0 ? null : narrower.Columns.ToHashSet(StringComparer.Ordinal);
        foreach (var mask in wider.Masks)
        {
            if (delivered is not null && !delivered.Contains(mask.Column))
            {
                // A column not delivered needs no mask.
                continue;
            }

            var stronger = narrower.Masks.FirstOrDefault(m => m.Column == mask.Column);
            if (stronger is null || !AtLeast(stronger, mask))
            {
                return $"{field}.masks must mask '{mask.Column}' at least as strongly as {Describe(mask)}.";
            }
        }

        return null;
    }

    /// <summary>Whether <paramref name="narrower"/> holds only where <paramref name="filter"/> does: it is the filter, or an `all` with the filter (or each of its `all` operands) among its operands.</summary>
    private static bool Keeps(Predicate filter, Predicate? narrower)
    {
        if (narrower is null)
        {
            return false;
        }

        if (narrower.Equals(filter))
        {
            return true;
        }

        if (narrower.KindCase != Predicate.KindOneofCase.All)
        {
            return false;
        }

        var operands = narrower.All.Predicates;
        return operands.Contains(filter)
            || (filter.KindCase == Predicate.KindOneofCase.All && filter.All.Predicates.All(operands.Contains));
    }

    /// <summary>The conditions <paramref name="narrower"/> holds beyond <paramref name="filter"/> (all of it when there is none).</summary>
    private static IEnumerable<Predicate> Added(Predicate? filter, Predicate narrower)
    {
        if (filter is null)
        {
            return [narrower];
        }

        if (narrower.Equals(filter))
        {
            return [];
        }

        var kept = filter.KindCase == Predicate.KindOneofCase.All ? filter.All.Predicates : [filter];
        return narrower.KindCase == Predicate.KindOneofCase.All ? narrower.All.Predicates.Where(p => !kept.Contains(p) && !p.Equals(filter)) : [narrower];
    }

    private static IEnumerable<string> ColumnsOf(Predicate predicate) => predicate.KindCase switch
    {
        Predicate.KindOneofCase.Comparison => [predicate.Comparison.Column],
        Predicate.KindOneofCase.All => predicate.All.Predicates.SelectMany(ColumnsOf),
        Predicate.KindOneofCase.Any => predicate.Any.Predicates.SelectMany(ColumnsOf),
        Predicate.KindOneofCase.Not => ColumnsOf(predicate.Not),
        _ => [],
    };

    /// <summary>Whether <paramref name="mask"/> hides at least what <paramref name="than"/> does.</summary>
    private static bool AtLeast(Mask mask, Mask than) => mask.Kind == MaskKind.Redact || (mask.Kind == than.Kind && mask.Kind switch
    {
        MaskKind.Hash => true,
        MaskKind.Truncate => mask.Length <= than.Length,
        MaskKind.Generalise => mask.Unit >= than.Unit,
        // A wider bucket hides more only when it is made of whole narrower ones.
        MaskKind.Bucket => ViewValidation.Width(mask) % ViewValidation.Width(than) == 0,
        _ => false,
    });

    private static string Describe(Mask mask) => mask.Kind switch
    {
        MaskKind.Truncate => $"truncate to {mask.Length}",
        MaskKind.Generalise => $"generalise to {mask.Unit.ToString().ToLowerInvariant()}",
        MaskKind.Bucket => $"bucket by {mask.Width}",
        _ => ViewValidation.MaskName(mask.Kind),
    };
}
