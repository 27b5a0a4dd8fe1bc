using Exchange.V1;

namespace Exchange.Client;

/// <summary>What <see cref="ExchangeClient.RequestAccessAsync"/> asks for.</summary>
public sealed record AccessRequestOptions
{
    /// <summary>Why the consumer wants the data; the grant allows downloads for its purposes only.</summary>
    public required string Purpose { get; init; }

    /// <summary>The terms asked for (purposes, expiry, transfer count), or null for the purpose alone.</summary>
    public Terms? Terms { get; init; }

    /// <summary>Makes retries idempotent: a repeated request with the same id returns the same access request.</summary>
    public string? RequestId { get; init; }
}
