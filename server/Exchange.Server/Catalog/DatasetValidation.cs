using System.Text.RegularExpressions;
using Exchange.V1;

namespace Exchange.Server.Catalog;

/// <summary>What dataset fields mean, checked before anything is stored (their length and characters: Validation/RequestText).</summary>
internal static partial class DatasetValidation
{
    public const int MaxTags = 32;

    /// <summary>The fields UpdateDataset may change (its update_mask paths).</summary>
    public static readonly IReadOnlyList<string> UpdatableFields =
        ["title", "description", "tags", "classification", "auto_approval_terms"];

    public static void Validate(Dataset dataset, IEnumerable<string> fields, DateTimeOffset now)
    {
        foreach (var field in fields)
        {
            switch (field)
            {
                case "title":
                    if (string.IsNullOrWhiteSpace(dataset.Title))
                    {
                        throw Errors.InvalidArgument("dataset.title is required.");
                    }

                    break;
                case "description":
                    // Its length and characters are held to RequestText's rule before the call gets here.
                    break;
                case "tags":
                    ValidateTags(dataset);
                    break;
                case "classification":
                    if (dataset.Classification == Classification.Unspecified || !Enum.IsDefined(dataset.Classification))
                    {
                        throw Errors.InvalidArgument(
                            "dataset.classification is required: CLASSIFICATION_PUBLIC, _INTERNAL, _SENSITIVE or _CORE.");
                    }

                    break;
                case "auto_approval_terms":
                    if (dataset.AutoApprovalTerms is not null)
                    {
                        TermsValidation.Validate(dataset.AutoApprovalTerms, "dataset.auto_approval_terms", now);
                        if (dataset.AutoApprovalTerms.Offer is not null)
                        {
                            // A price is an offer the consumer names (PricingService), never one the provider slips into automatic terms.
                            throw Errors.InvalidArgument("dataset.auto_approval_terms.offer is not set here: make an offer with CreateOffer, and requests name it.");
                        }

                        if (dataset.AutoApprovalTerms.Purposes.Count == 0)
                        {
                            throw Errors.InvalidArgument(
                                "dataset.auto_approval_terms.purposes must list the purposes that are approved automatically.");
                        }
                    }

                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(fields), field, "Unknown dataset field.");
            }
        }
    }

    /// <summary>Tags: at most 32, each a valid tag; duplicates are dropped, order kept.</summary>
    public static void ValidateTags(Dataset dataset)
    {
        if (dataset.Tags.Count > MaxTags)
        {
            throw Errors.InvalidArgument($"dataset.tags may hold at most {MaxTags} tags.");
        }

        foreach (var tag in dataset.Tags)
        {
            ValidateTag(tag, "dataset.tags");
        }

        var distinct = dataset.Tags.Distinct(StringComparer.Ordinal).ToList();
        dataset.Tags.Clear();
        dataset.Tags.Add(distinct);
    }

    public static void ValidateTag(string tag, string field)
    {
        if (!TagPattern().IsMatch(tag))
        {
            throw Errors.InvalidArgument(
                $"{field}: '{tag}' is not a tag; a tag is 1-64 characters of lowercase letters, digits, '-', '_' or '.'.");
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();
}
