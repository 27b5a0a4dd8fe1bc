using Exchange.V1;

namespace Exchange.Server.Tables;

/// <summary>Which uploads are tables: decided by the media type the provider gives.</summary>
internal static class TableFormats
{
    /// <summary>The table format <paramref name="mediaType"/> names (parameters such as <c>; charset=utf-8</c> aside), or UNSPECIFIED for opaque bytes.</summary>
    public static TableFormat Of(string mediaType)
    {
        var type = mediaType.Split(';', 2)[0].Trim();
        return type.ToLowerInvariant() switch
        {
            "text/csv" => TableFormat.Csv,
            "application/vnd.apache.parquet" or "application/x-parquet" => TableFormat.Parquet,
            "application/vnd.apache.arrow.stream" or "application/vnd.apache.arrow.file" => TableFormat.ArrowIpc,
            _ => TableFormat.Unspecified,
        };
    }
}
