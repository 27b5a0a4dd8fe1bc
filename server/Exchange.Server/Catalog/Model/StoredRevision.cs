namespace Exchange.Server.Catalog.Model;

/// <summary>
/// A revision with what it takes to read its bytes: where they are (an id the blob store gave) and
/// how its data key is wrapped. Opaque to the catalog; Transfers reads and writes the bytes.
/// </summary>
internal sealed record StoredRevision(Revision Revision, string BlobId, byte[] WrappedKey, string KekId, int SegmentSize);
