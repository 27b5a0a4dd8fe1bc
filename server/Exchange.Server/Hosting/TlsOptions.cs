namespace Exchange.Server.Hosting;

internal sealed class TlsOptions
{
    /// <summary>PEM certificate for HTTPS endpoints; when unset, Kestrel's own certificate configuration applies.</summary>
    public string? CertificateFile { get; set; }

    /// <summary>PEM private key of <see cref="CertificateFile"/>.</summary>
    public string? KeyFile { get; set; }
}
