using System.Security.Cryptography;

namespace Exchange.Server.Transfers;

/// <summary>This gateway process, as the replicas sharing a database tell each other apart: a fresh id each start.</summary>
internal sealed class GatewayInstance
{
    public string Id { get; } = RandomNumberGenerator.GetHexString(16, lowercase: true);
}
