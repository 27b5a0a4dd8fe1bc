namespace Exchange.Server.Security;

/// <summary>Claim types the exchange reads from bearer tokens.</summary>
internal static class ExchangeClaims
{
    /// <summary>The participant id.</summary>
    public const string Subject = "sub";

    /// <summary>The participant's roles: a JSON array or a single string.</summary>
    public const string Roles = "roles";
}
