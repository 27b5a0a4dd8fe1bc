namespace Exchange.Server.Security;

/// <summary>The named authorization policies endpoints require (registered in <see cref="AuthenticationSetup"/>).</summary>
internal static class Policies
{
    /// <summary>Every exchange.v1 service: an authenticated caller with a participant role (<see cref="Roles.Participant"/>).</summary>
    public const string Participant = "participant";

    /// <summary>The Prometheus scrape endpoint: an authenticated caller with the <see cref="Roles.Metrics"/> role.</summary>
    public const string Metrics = "metrics";
}
