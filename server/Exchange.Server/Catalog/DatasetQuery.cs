using Exchange.Server.Catalog.Model;

namespace Exchange.Server.Catalog;

/// <summary>The filters of one ListDatasets call, already validated; null (or Unspecified) matches any.</summary>
internal sealed record DatasetQuery(
    string? Text,
    string? Tag,
    string? Provider,
    Classification Classification,
    DatasetState? State,
    double? MinCompleteness = null)
{
    /// <summary>What a page token is bound to: the caller and every filter.</summary>
    public string Scope(string participant) =>
        string.Join('\n', "ListDatasets", participant, Text ?? "", Tag ?? "", Provider ?? "", (int)Classification, (int?)State ?? 0,
            MinCompleteness?.ToString("R", System.Globalization.CultureInfo.InvariantCulture) ?? "");
}
