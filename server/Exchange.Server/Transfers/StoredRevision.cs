using Exchange.V1;

namespace Exchange.Server.Transfers;

/// <summary>A revision with what it takes to read its bytes: where they are and how their data key is wrapped.</summary>
internal sealed record StoredRevision(Revision Revision, string BlobId, byte[] WrappedKey, string KekId, int SegmentSize);
