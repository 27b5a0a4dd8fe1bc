using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Exchange.Server.Security;

/// <summary>
/// Certificate-bound access tokens (RFC 8705): a token whose <c>cnf</c> claim names a client
/// certificate (<c>x5t#S256</c>) is accepted only over a connection that presented exactly that
/// certificate, so a stolen token is useless without the private key beside it. With
/// Exchange:Auth:RequireBoundTokens every token must be bound, to a certificate naming its participant.
/// </summary>
internal static class CertificateBinding
{
    public const string ConfirmationClaim = "cnf";
    public const string CertificateThumbprint = "x5t#S256";
    private const string CommonName = "2.5.4.3";

    /// <summary>Why <paramref name="user"/>'s token may not be used over this connection, or null when it may.</summary>
    public static string? Problem(ClaimsPrincipal user, X509Certificate2? connectionCertificate)
    {
        var confirmation = user.FindFirst(ConfirmationClaim)?.Value;
        if (confirmation is null)
        {
            return null;
        }

        string? bound;
        try
        {
            using var document = JsonDocument.Parse(confirmation);
            bound = document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty(CertificateThumbprint, out var thumbprint)
                && thumbprint.ValueKind == JsonValueKind.String
                    ? thumbprint.GetString()
                    : null;
        }
        catch (JsonException)
        {
            bound = null;
        }

        if (bound is null)
        {
            return "the token's 'cnf' claim must hold an 'x5t#S256' certificate thumbprint";
        }

        if (connectionCertificate is null)
        {
            return "the token is bound to a client certificate ('cnf' 'x5t#S256'), but this connection presented none";
        }

        return string.Equals(bound, ClientCertificateTrust.Thumbprint(connectionCertificate), StringComparison.Ordinal)
            ? null
            : "the token is bound to another client certificate than the one this connection presented";
    }

    /// <summary>
    /// With Exchange:Auth:RequireBoundTokens: why <paramref name="user"/>'s token is not a bound token of
    /// <paramref name="participant"/> over this connection, or null when it is. Run after <see cref="Problem"/>,
    /// which checks that a bound token came with its certificate; here the token must be bound, and the
    /// certificate's subject must name the participant: exactly one CN, equal to the participant id.
    /// </summary>
    public static string? RequiredProblem(ClaimsPrincipal user, string participant, X509Certificate2? connectionCertificate)
    {
        if (user.FindFirst(ConfirmationClaim) is null)
        {
            return "a certificate-bound token is required: its 'cnf' claim must hold the 'x5t#S256' thumbprint of your client certificate " +
                "(exchange token --bind-cert, or ask your issuer for an RFC 8705 bound token)";
        }

        if (connectionCertificate is null)
        {
            return "a certificate-bound token is required, but this connection presented no client certificate";
        }

        var names = connectionCertificate.SubjectName.EnumerateRelativeDistinguishedNames()
            .Where(rdn => !rdn.HasMultipleElements && rdn.GetSingleElementType().Value == CommonName)
            .Select(rdn => rdn.GetSingleElementValue())
            .ToList();
        return names is [var name] && string.Equals(name, participant, StringComparison.Ordinal)
            ? null
            : $"the client certificate's subject ({connectionCertificate.Subject}) does not name participant '{participant}': its CN must be the participant id";
    }
}
