using System.Text.RegularExpressions;
using Exchange.Server.Catalog;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Server.Rights;

/// <summary>Shape rules for what a caller says about a right: its kind, basis, scope and validity.</summary>
internal static partial class RightValidation
{
    public const int MaxEvidence = 32;
    public const int MaxTerritories = 64;

    public static void ValidateKind(RightKind kind, string field)
    {
        if (kind is not (RightKind.Holding or RightKind.ProcessingUse or RightKind.ProductOperation))
        {
            throw Errors.InvalidArgument($"{field} must be HOLDING, PROCESSING_USE or PRODUCT_OPERATION.");
        }
    }

    /// <summary>A registered basis: its kind (a licence comes only from LicenseRight) and at least one document's digest.</summary>
    public static void ValidateBasis(RightBasis? basis, string field)
    {
        if (basis is null || basis.Kind is RightBasisKind.Unspecified)
        {
            throw Errors.InvalidArgument(
                $"{field}.kind is required: OWN_COLLECTION, SOURCE_AUTHORIZATION, PURCHASE or DERIVATION.");
        }

        if (!System.Enum.IsDefined(basis.Kind) || basis.Kind == RightBasisKind.License)
        {
            throw Errors.InvalidArgument(basis.Kind == RightBasisKind.License
                ? $"{field}.kind LICENSE is set by LicenseRight, from the licensor's right; register another basis."
                : $"{field}.kind {(int)basis.Kind} is not a known basis.");
        }

        if (basis.LicensedFrom.Length > 0)
        {
            throw Errors.InvalidArgument($"{field}.licensed_from is output only.");
        }

        if (basis.Evidence.Count == 0)
        {
            throw Errors.InvalidArgument(
                $"{field}.evidence is required: the SHA-256 and media type of at least one document that supports the right " +
                "(the document itself stays with you).");
        }

        if (basis.Evidence.Count > MaxEvidence)
        {
            throw Errors.InvalidArgument($"{field}.evidence may list at most {MaxEvidence} documents.");
        }

        for (var i = 0; i < basis.Evidence.Count; i++)
        {
            var evidence = basis.Evidence[i];
            if (evidence.Sha256.Length != 32)
            {
                throw Errors.InvalidArgument($"{field}.evidence[{i}].sha256 must be 32 bytes (a SHA-256 digest), not {evidence.Sha256.Length}.");
            }

            if (evidence.MediaType.Length == 0 || !MediaType().IsMatch(evidence.MediaType))
            {
                throw Errors.InvalidArgument($"{field}.evidence[{i}].media_type must be a media type such as 'application/pdf'.");
            }
        }
    }

    public static void ValidateScope(RightScope? scope, string field)
    {
        if (scope is null)
        {
            return;
        }

        if (scope.Purposes.Count > TermsValidation.MaxPurposes)
        {
            throw Errors.InvalidArgument($"{field}.purposes may list at most {TermsValidation.MaxPurposes} purposes.");
        }

        foreach (var purpose in scope.Purposes)
        {
            TermsValidation.ValidatePurpose(purpose, $"{field}.purposes");
        }

        if (scope.Territories.Count > MaxTerritories)
        {
            throw Errors.InvalidArgument($"{field}.territories may list at most {MaxTerritories} territories.");
        }

        foreach (var territory in scope.Territories)
        {
            if (!Territory().IsMatch(territory))
            {
                throw Errors.InvalidArgument($"{field}.territories: '{territory}' is not an ISO 3166 code such as 'NO' or 'CN-GD'.");
            }
        }

        if (scope.Purposes.Distinct(StringComparer.Ordinal).Count() != scope.Purposes.Count ||
            scope.Territories.Distinct(StringComparer.Ordinal).Count() != scope.Territories.Count)
        {
            throw Errors.InvalidArgument($"{field} lists a purpose or territory twice.");
        }
    }

    /// <summary>A validity that ends after it starts and, when it ends, ends in the future.</summary>
    public static void ValidateValidity(Timestamp? start, Timestamp? end, string field, DateTimeOffset now)
    {
        if (start is not null && !Valid(start))
        {
            throw Errors.InvalidArgument($"{field}.start_time is not a valid time.");
        }

        if (end is null)
        {
            return;
        }

        if (!Valid(end))
        {
            throw Errors.InvalidArgument($"{field}.end_time is not a valid time.");
        }

        if (end.ToDateTimeOffset() <= now)
        {
            throw Errors.InvalidArgument($"{field}.end_time must be in the future.");
        }

        if (start is not null && end.ToDateTimeOffset() <= start.ToDateTimeOffset())
        {
            throw Errors.InvalidArgument($"{field}.end_time must be after its start_time.");
        }
    }

    private static bool Valid(Timestamp time) =>
        time.Seconds is >= -62135596800L and <= 253402300799L && time.Nanos is >= 0 and < 1_000_000_000;

    [GeneratedRegex("^[a-z]+/[a-z0-9][a-z0-9.+-]{0,126}\\z", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex MediaType();

    [GeneratedRegex("^[A-Z]{2}(-[A-Z0-9]{1,3})?\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Territory();
}
