using Exchange.V1;

namespace Exchange.Server.Catalog.Model;

/// <summary>
/// A tabular revision's format, schema and quality report. The two messages are kept as the bytes
/// whose SHA-256 the upload's audit event records, so what the catalog shows is what was attested.
/// </summary>
internal sealed record RevisionTable(TableFormat Format, byte[] Schema, byte[] Quality)
{
    public QualityReport Report => QualityReport.Parser.ParseFrom(Quality);
}
