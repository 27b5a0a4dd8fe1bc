using Exchange.V1;

namespace Exchange.Server.Tables;

/// <summary>
/// What reading a table once found: its format and schema, and its quality report but for the
/// currentness of its dates and times, which is measured against the upload's commit time.
/// </summary>
internal sealed class TableProfile(TableFormat format, Schema schema, QualityReport quality, IReadOnlyList<DateTimeOffset?> newest)
{
    public TableFormat Format => format;

    public Schema Schema => schema;

    /// <summary>The complete report, with each date or time column's newest value aged against <paramref name="uploaded"/>.</summary>
    public QualityReport ReportAt(DateTimeOffset uploaded)
    {
        var report = quality.Clone();
        for (var i = 0; i < newest.Count; i++)
        {
            if (newest[i] is { } time)
            {
                report.Columns[i].NewestAge = ColumnProfile.Age(uploaded, time);
            }
        }

        return report;
    }
}
