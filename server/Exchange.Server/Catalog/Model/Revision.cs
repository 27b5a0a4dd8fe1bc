namespace Exchange.Server.Catalog.Model;

/// <summary>
/// An immutable revision of a dataset: its size, the SHA-256 of its bytes and their media type;
/// and, when its bytes are a table, what was read of it on upload.
/// </summary>
internal sealed record Revision(RevisionId Id, long SizeBytes, byte[] Sha256, string MediaType, DateTimeOffset CreateTime, RevisionTable? Table = null);
