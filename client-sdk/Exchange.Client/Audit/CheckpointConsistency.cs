using Exchange.Transparency;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Client.Audit;

/// <summary>
/// Whether a signed checkpoint extends another, by the gateway's RFC 9162 consistency proof: the
/// check that keeps a gateway from showing one party a log and another party (or the same one
/// later) a different one.
/// </summary>
internal static class CheckpointConsistency
{
    /// <summary>Null when the log of <paramref name="older"/> is a prefix of the log of <paramref name="newer"/> (not smaller); else the problem.</summary>
    public static async Task<string?> ProblemAsync(ExchangeClient client, CheckpointNote older, CheckpointNote newer,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(older.Size, newer.Size, nameof(older));
        if (older.Origin != newer.Origin)
        {
            return $"The checkpoints are of two logs, '{older.Origin}' and '{newer.Origin}'.";
        }

        if (older.Size == newer.Size)
        {
            return older.RootHash.AsSpan().SequenceEqual(newer.RootHash) ? null : $"Fork: two different signed roots for size {older.Size}.";
        }

        if (older.Size == 0)
        {
            return null;
        }

        GetConsistencyProofResponse proof;
        try
        {
            proof = await client.Audit.GetConsistencyProofAsync(
                new GetConsistencyProofRequest { FirstTreeSize = older.Size, SecondTreeSize = newer.Size }, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.OutOfRange or StatusCode.NotFound)
        {
            // The gateway cannot prove its own signed checkpoint: it is not of the log it serves.
            return $"Fork: the gateway has no consistency proof from size {older.Size} to {newer.Size} ({ex.Status.Detail}).";
        }

        return MerkleProofs.VerifyConsistency(older.Size, newer.Size, proof.Hashes.Select(h => h.ToByteArray()).ToList(),
            older.RootHash, newer.RootHash)
            ? null
            : $"Fork: the signed checkpoints of size {older.Size} and {newer.Size} are not consistent (the smaller is not a prefix of the larger).";
    }
}
