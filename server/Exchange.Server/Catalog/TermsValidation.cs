using Exchange.V1;

namespace Exchange.Server.Catalog;

/// <summary>Shape rules for terms as the contract carries them, wherever terms are given (a dataset's automatic terms, a request's, an approval's).</summary>
internal static class TermsValidation
{
    public const int MaxPurposes = 16;

    public static void Validate(Terms terms, string field, DateTimeOffset now)
    {
        if (terms.Purposes.Count > MaxPurposes)
        {
            throw Errors.InvalidArgument($"{field}.purposes may list at most {MaxPurposes} purposes.");
        }

        foreach (var purpose in terms.Purposes)
        {
            ValidatePurpose(purpose, $"{field}.purposes");
        }

        if (terms.Purposes.Distinct(StringComparer.Ordinal).Count() != terms.Purposes.Count)
        {
            throw Errors.InvalidArgument($"{field}.purposes lists a purpose twice.");
        }

        if (terms.Derivation is { Allowed: false, DescendantsSurviveRevocation: true })
        {
            throw Errors.InvalidArgument($"{field}.derivation.descendants_survive_revocation needs derivation.allowed.");
        }

        if (terms.MaxTransfers < 0)
        {
            throw Errors.InvalidArgument($"{field}.max_transfers must be 0 (unlimited) or more, not {terms.MaxTransfers}.");
        }

        if (!Enum.IsDefined(terms.Kind))
        {
            throw Errors.InvalidArgument($"{field}.kind {(int)terms.Kind} is not a known grant kind.");
        }

        if (terms.Kind == GrantKind.Compute && terms.Analysis is null)
        {
            throw Errors.InvalidArgument($"{field}.analysis is required for a COMPUTE grant: the rule its queries are held to.");
        }

        if (terms.View is not null && terms.Analysis is not null)
        {
            throw Errors.InvalidArgument(ViewWithRule(field));
        }

        if (terms.ExpireTime is not null)
        {
            DateTimeOffset expiry;
            try
            {
                expiry = terms.ExpireTime.ToDateTimeOffset();
            }
            catch (InvalidOperationException)
            {
                throw Errors.InvalidArgument($"{field}.expire_time is not a valid timestamp.");
            }

            if (expiry <= now)
            {
                throw Errors.InvalidArgument($"{field}.expire_time must be in the future.");
            }
        }
    }

    public static void ValidatePurpose(string purpose, string field)
    {
        // Length and characters were held to RequestText's rule before the call got here.
        if (string.IsNullOrWhiteSpace(purpose) || purpose.Trim().Length != purpose.Length)
        {
            throw Errors.InvalidArgument($"{field}: a purpose is text without surrounding spaces, such as \"research\".");
        }
    }

    /// <summary>Why terms may not carry both a view and an analysis rule.</summary>
    public static string ViewWithRule(string field) =>
        $"{field}: a view and an analysis rule do not go together (queries would not apply the view's filter and masks); " +
        "give a COMPUTE grant its rule and a DOWNLOAD grant its view.";
}
