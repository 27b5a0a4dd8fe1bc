namespace Exchange.Server.Hosting;

internal sealed class TlsOptions
{
    /// <summary>PEM certificate for HTTPS endpoints; when unset, Kestrel's own certificate configuration applies.</summary>
    public string? CertificateFile { get; set; }

    /// <summary>PEM private key of <see cref="CertificateFile"/>.</summary>
    public string? KeyFile { get; set; }

    /// <summary>Mutual TLS: "off" (no client certificate asked for), "optional" (checked when presented) or "required".</summary>
    public string ClientCertificates { get; set; } = "off";

    /// <summary>PEM file of the CA certificate(s) client certificates must chain to; required unless ClientCertificates is "off".</summary>
    public string? ClientCaFile { get; set; }
}
