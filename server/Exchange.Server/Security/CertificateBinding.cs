using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Exchange.Server.Security;

/// <summary>
/// Certificate-bound access tokens (RFC 8705): a token whose <c>cnf</c> claim names a client
/// certificate (<c>x5t#S256</c>) is accepted only over a connection that presented exactly that
/// certificate, so a stolen token is useless without the private key beside it.
/// </summary>
internal static class CertificateBinding
{
    public const string ConfirmationClaim = "cnf";
    public const string CertificateThumbprint = "x5t#S256";

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
}
