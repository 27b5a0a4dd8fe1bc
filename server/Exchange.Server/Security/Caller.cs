using System.Security.Claims;
using Grpc.Core;

namespace Exchange.Server.Security;

/// <summary>The authenticated participant behind a call, with its roles.</summary>
internal sealed record Caller(string Participant, IReadOnlySet<string> Roles)
{
    public bool IsProvider => Roles.Contains(Security.Roles.Provider);

    public bool IsConsumer => Roles.Contains(Security.Roles.Consumer);

    public bool IsAuditor => Roles.Contains(Security.Roles.Auditor);

    public bool IsOperator => Roles.Contains(Security.Roles.Operator);

    /// <summary>Auditors and operators read the whole exchange.</summary>
    public bool ReadsEverything => IsAuditor || IsOperator;

    public static Caller From(ServerCallContext context) => From(context.GetHttpContext().User);

    public static Caller From(ClaimsPrincipal user)
    {
        // The fallback authorization policy guarantees an authenticated user with a valid sub;
        // reaching here without one is a server bug, not a caller error.
        var participant = user.FindFirstValue(ExchangeClaims.Subject)
            ?? throw new InvalidOperationException("Authenticated principal has no subject.");
        var roles = user.FindAll(ExchangeClaims.Roles).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        return new Caller(participant, roles);
    }
}
