using Exchange.Server.Audit;
using Exchange.Server.Security;

namespace Exchange.Server.Hosting;

internal sealed class ExchangeOptions
{
    public const string Section = "Exchange";

    /// <summary>Where the embedded store keeps its database and blobs.</summary>
    public string DataDirectory { get; set; } = "./data";

    /// <summary>Whether gRPC reflection is served (turn off in production if callers should not browse the API).</summary>
    public bool Reflection { get; set; } = true;

    /// <summary>The web console at /console: its OIDC sign-in.</summary>
    public ConsoleOptions Console { get; set; } = new();

    public TlsOptions Tls { get; set; } = new();

    public AuthOptions Auth { get; set; } = new();

    public AuditOptions Audit { get; set; } = new();

    public Transfers.TransferOptions Transfers { get; set; } = new();

    public Transfers.KeyRingOptions Encryption { get; set; } = new();

    public Transfers.BlobOptions Blobs { get; set; } = new();

    public Storage.DatabaseOptions Database { get; set; } = new();

    public Compute.ComputeOptions Compute { get; set; } = new();

    public Rights.RightsOptions Rights { get; set; } = new();

    public Billing.BillingOptions Billing { get; set; } = new();

    public Limits.LimitOptions Limits { get; set; } = new();

    public Observability.TelemetryOptions Telemetry { get; set; } = new();
}
