using System.Data.Common;
using Exchange.Server.Catalog.Model;
using Exchange.Server.Paging;
using Exchange.Server.Storage;

namespace Exchange.Server.Catalog;

/// <summary>
/// The revisions table: numbers reserved through a dataset's revision counter, revisions added
/// (and made the dataset's latest), found with where their bytes are; and the maintenance reads
/// and writes over every revision (blobs in use, data keys to rewrap).
/// </summary>
internal sealed class RevisionStore(Database database) : IRevisions
{
    private const string Columns =
        "r.number, r.size_bytes, r.sha256, r.media_type, r.create_time, r.blob_id, r.wrapped_key, r.kek_id, r.segment_size, "
        + "r.table_format, r.table_schema, r.quality";

    public long Reserve(WriteUnit unit, DatasetId id) =>
        (long)unit.Command("UPDATE datasets SET revision_counter = revision_counter + 1 WHERE id = @id RETURNING revision_counter")
            .With("@id", id.Value).ExecuteScalar()!;

    /// <summary>Stores <paramref name="revision"/> as created at its create time, which also becomes the dataset's update time.</summary>
    public Revision Add(WriteUnit unit, StoredRevision revision)
    {
        var (id, now, table) = (revision.Revision.Id, Timestamps.ToMicros(revision.Revision.CreateTime), revision.Revision.Table);
        unit.Command("""
            INSERT INTO revisions (dataset_seq, number, size_bytes, sha256, media_type, create_time, blob_id, wrapped_key, kek_id, segment_size,
                                   table_format, table_schema, quality, completeness)
            VALUES ((SELECT seq FROM datasets WHERE id = @id), @n, @size, @sha, @media, @now, @blob, @key, @kek, @segment,
                    @format, @schema, @quality, @completeness)
            """)
            .With("@id", id.Dataset.Value).With("@n", id.Number).With("@size", revision.Revision.SizeBytes)
            .With("@sha", revision.Revision.Sha256).With("@media", revision.Revision.MediaType).With("@now", now)
            .With("@blob", revision.BlobId).With("@key", revision.WrappedKey).With("@kek", revision.KekId).With("@segment", revision.SegmentSize)
            .With("@format", (int)(table?.Format ?? V1.TableFormat.Unspecified)).With("@schema", table?.Schema).With("@quality", table?.Quality)
            .With("@completeness", table?.Report.Completeness)
            .ExecuteNonQuery();
        unit.Command("UPDATE datasets SET latest_revision = CASE WHEN @n > latest_revision THEN @n ELSE latest_revision END, update_time = @now WHERE id = @id")
            .With("@n", id.Number).With("@now", now).With("@id", id.Dataset.Value).ExecuteNonQuery();
        return Find(unit, id)!.Revision;
    }

    public long Latest(WriteUnit unit, DatasetId id) =>
        (long)unit.Command("SELECT latest_revision FROM datasets WHERE id = @id").With("@id", id.Value).ExecuteScalar()!;

    public StoredRevision? Find(WriteUnit unit, RevisionId id)
    {
        using var command = unit.Command($"""
            SELECT {Columns} FROM revisions r JOIN datasets d ON d.seq = r.dataset_seq
            WHERE d.id = @id AND r.number = @n
            """).With("@id", id.Dataset.Value).With("@n", id.Number);
        using var reader = command.ExecuteReader();
        return reader.Read() ? Read(reader, id.Dataset) : null;
    }

    public IReadOnlyList<V1.Column>? LatestColumns(WriteUnit unit, DatasetId id)
    {
        var latest = Latest(unit, id);
        return latest == 0 || Find(unit, new RevisionId(id, latest))?.Revision.Table is not { } table
            ? null
            : V1.Schema.Parser.ParseFrom(table.Schema).Columns;
    }

    /// <summary>The revision, or null.</summary>
    public Task<Revision?> GetAsync(RevisionId id, CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, ct) =>
        {
            var command = connection.Prepared($"""
                SELECT {Columns} FROM revisions r JOIN datasets d ON d.seq = r.dataset_seq
                WHERE d.id = @id AND r.number = @n
                """).With("@id", id.Dataset.Value).With("@n", id.Number);
            return (await command.ListAsync(reader => Read(reader, id.Dataset).Revision, ct)).SingleOrDefault();
        }, cancellationToken);

    /// <summary>One page of a dataset's revisions, oldest first, after revision number <paramref name="after"/>.</summary>
    public Task<(IReadOnlyList<Revision> Page, long? Next)> ListAsync(DatasetId id, long after, int pageSize, CancellationToken cancellationToken) =>
        database.ReadAsync<(IReadOnlyList<Revision>, long?)>(async (connection, ct) =>
        {
            var command = connection.Prepared($"""
                SELECT {Columns} FROM revisions r JOIN datasets d ON d.seq = r.dataset_seq
                WHERE d.id = @id AND r.number > @after
                ORDER BY r.number
                LIMIT @limit
                """).With("@id", id.Value).With("@after", after).With("@limit", pageSize + 1);
            var revisions = await command.ListAsync(reader => (reader.GetInt64(0), Read(reader, id).Revision), ct);
            return KeysetPage.From(revisions, pageSize);
        }, cancellationToken);

    /// <summary>The blobs that revisions refer to: every other blob is left over from an interrupted upload.</summary>
    public Task<HashSet<string>> ReferencedBlobsAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, ct) =>
        {
            await using var command = connection.Command("SELECT blob_id FROM revisions WHERE blob_id <> ''");
            return (await command.ListAsync(reader => reader.GetString(0), ct)).ToHashSet(StringComparer.Ordinal);
        }, cancellationToken);

    /// <summary>Every revision's wrapped data key not wrapped by <paramref name="notWrappedBy"/>, for rewrapping under it.</summary>
    public Task<List<(RevisionId Id, byte[] WrappedKey, string KekId)>> WrappedKeysAsync(string notWrappedBy, CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, ct) =>
        {
            await using var command = connection.Command("""
                SELECT d.id, r.number, r.wrapped_key, r.kek_id FROM revisions r JOIN datasets d ON d.seq = r.dataset_seq
                WHERE r.blob_id <> '' AND r.kek_id <> @kek
                """).With("@kek", notWrappedBy);
            return await command.ListAsync(
                reader => (new RevisionId(new DatasetId(reader.GetString(0)), reader.GetInt64(1)), (byte[])reader[2], reader.GetString(3)), ct);
        }, cancellationToken);

    /// <summary>Replaces a revision's wrapped data key, unless it was rewrapped meanwhile; returns the rows changed (0 or 1).</summary>
    public Task<int> RewrapAsync(RevisionId id, byte[] wrappedKey, string kekId, string previousKekId) =>
        database.WriteAsync(unit => unit.Command("""
            UPDATE revisions SET wrapped_key = @key, kek_id = @kek
            WHERE dataset_seq = (SELECT seq FROM datasets WHERE id = @id) AND number = @n AND kek_id = @previous
            """).With("@key", wrappedKey).With("@kek", kekId).With("@id", id.Dataset.Value).With("@n", id.Number).With("@previous", previousKekId)
            .ExecuteNonQuery(), CancellationToken.None);

    private static StoredRevision Read(DbDataReader reader, DatasetId dataset)
    {
        var format = (V1.TableFormat)reader.GetInt32(9);
        var table = format == V1.TableFormat.Unspecified ? null : new RevisionTable(format, (byte[])reader[10], (byte[])reader[11]);
        var revision = new Revision(new RevisionId(dataset, reader.GetInt64(0)), reader.GetInt64(1), (byte[])reader[2], reader.GetString(3),
            Timestamps.ToTime(reader.GetInt64(4)), table);
        return new StoredRevision(revision, reader.GetString(5), (byte[])reader[6], reader.GetString(7), reader.GetInt32(8));
    }
}
