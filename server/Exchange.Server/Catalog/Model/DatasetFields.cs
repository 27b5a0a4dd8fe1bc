namespace Exchange.Server.Catalog.Model;

/// <summary>
/// The fields of a dataset its provider writes: all of them for a new dataset, those an update
/// names for a change (the rest of the dataset is the catalog's: its id, state and times).
/// </summary>
internal sealed record DatasetFields(
    string Title,
    string Description,
    IReadOnlyList<string> Tags,
    Classification Classification,
    Terms? AutoApprovalTerms);
