using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Exchange.Client.Transfers;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Exchange.Tests.Tables;

/// <summary>
/// A CSV upload becomes a table: its schema and quality report are read as it streams, shown on the
/// revision to whoever may see the dataset, and attested in the audit log; a malformed one is refused
/// with a message naming the row or column, and leaves nothing.
/// </summary>
public sealed class TabularUploadTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
{
    private static readonly string[] Stations = ["bergen", "oslo", "tromsø"];

    /// <summary>40 readings (one celsius is "n/a", one is empty, notes mostly empty), then row 1 again.</summary>
    private static byte[] Readings()
    {
        var csv = new StringBuilder("station,reading,celsius,measured,ok,note\n");
        for (var i = 1; i <= 40; i++)
        {
            var celsius = i switch { 7 => "n/a", 9 => "", _ => (i * 0.25 - 3).ToString("0.00", CultureInfo.InvariantCulture) };
            var measured = new DateOnly(2026, 11, 1).AddDays(i % 30).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var note = i % 10 == 0 ? "\"checked, twice\"" : "";
            csv.Append(CultureInfo.InvariantCulture, $"{Stations[i % 3]},{i},{celsius},{measured},{(i % 2 == 0 ? "true" : "False")},{note}\n");
        }

        csv.Append("oslo,1,-2.75,2026-11-02,False,\n");
        return Encoding.UTF8.GetBytes(csv.ToString());
    }

    [Fact]
    public async Task A_csv_upload_shows_its_inferred_schema_and_quality_and_both_are_attested_in_the_log()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        using var auditor = Gateway.ClientFor(Participant.Auditor);
        var dataset = await CatalogFixture.CreateAsync(acme);
        var uploaded = await acme.UploadAsync(dataset.Name, new MemoryStream(Readings()), new UploadOptions
        {
            MediaType = "text/csv",
            Schema = new Schema { Columns = { new Column { Name = "station", Describable = true } } },
        });
        await acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name });

        // Anyone who may see the dataset sees the same table description.
        var revision = (await initech.Catalog.GetRevisionAsync(new GetRevisionRequest { Name = uploaded.Name })).Revision;
        Assert.Equal(uploaded, revision);
        Assert.Equal(TableFormat.Csv, revision.Format);
        Assert.Equal(
            [
                ("station", ColumnType.String, false, true),
                ("reading", ColumnType.Int64, false, false),
                ("celsius", ColumnType.Decimal, true, false),
                ("measured", ColumnType.Date, false, false),
                ("ok", ColumnType.Bool, false, false),
                ("note", ColumnType.String, true, false),
            ],
            revision.Schema.Columns.Select(c => (c.Name, c.Type, c.Nullable, c.Describable)));

        var quality = revision.Quality;
        Assert.Equal((41L, 1L, 0L), (quality.RowCount, quality.DuplicateRowEstimate, quality.RowsBreakingSchema));
        var columns = quality.Columns.ToDictionary(c => c.Name);
        Assert.Equal((0L, 1.0, 3L), (columns["station"].NullCount, columns["station"].Completeness, columns["station"].DistinctEstimate));
        Assert.Equal(("bergen", "tromsø"), (columns["station"].Min, columns["station"].Max));
        Assert.Equal([("oslo", 15L), ("bergen", 13L), ("tromsø", 13L)], columns["station"].TopValues.Select(v => (v.Value, v.Count)));
        Assert.Equal(40, columns["reading"].DistinctEstimate);

        // celsius: one empty (null), one "n/a" (not a decimal: invalid), the rest valid.
        var celsius = columns["celsius"];
        Assert.Equal((1L, 1L), (celsius.NullCount, celsius.InvalidCount));
        Assert.Equal(40.0 / 41, celsius.Completeness, 9);
        Assert.Equal(39.0 / 40, celsius.Validity, 9);
        Assert.Equal(37, columns["note"].NullCount);

        // Values of columns not marked describable stay hidden: rates and counts only.
        Assert.All(columns.Values.Where(c => c.Name != "station"), c => Assert.Equal(("", "", 0), (c.Min, c.Max, c.TopValues.Count)));

        // Currentness: the newest date (2026-11-30, midnight UTC) against the upload time.
        var newest = new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(revision.CreateTime.ToDateTimeOffset() - newest, columns["measured"].NewestAge.ToTimeSpan());
        Assert.Null(columns["reading"].NewestAge);
        Assert.Equal(1 - (38.0 / (41 * 6)), quality.Completeness, 9);

        // The log attests exactly these bytes: a buyer recomputes both digests from what the catalog shows.
        var logged = (await auditor.Audit.ListAuditEventsAsync(new ListAuditEventsRequest { Action = "revision.upload", Dataset = dataset.Name }))
            .Events.Single();
        var details = logged.Details.ToDictionary(d => d.Key, d => d.Value);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(revision.Schema.ToByteArray())), details["schema_sha256"]);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(revision.Quality.ToByteArray())), details["quality_sha256"]);
        Assert.Equal(("csv", "41"), (details["table_format"], details["row_count"]));
    }

    [Fact]
    public async Task A_declared_schema_is_checked_on_every_row_counting_what_breaks_it_unless_the_upload_is_strict()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme);
        var csv = "id,amount,day\n1,10.5,2026-01-01\n2,ten,2026-01-02\n3,,2026-01-03\n4,7,2026-13-01\n5,1,2026-01-05,extra\n"u8.ToArray();
        var declared = new Schema
        {
            Columns =
            {
                new Column { Name = "amount", Type = ColumnType.Decimal, Nullable = false },
                new Column { Name = "day", Type = ColumnType.Date, Nullable = true },
            },
        };

        var revision = await acme.UploadAsync(dataset.Name, new MemoryStream(csv), new UploadOptions { MediaType = "text/csv", Schema = declared });
        // "ten" is no decimal, the empty amount is a null where none is allowed, 2026-13-01 is no date, row 5 has a field too many.
        Assert.Equal((5L, 4L), (revision.Quality.RowCount, revision.Quality.RowsBreakingSchema));
        Assert.Equal((ColumnType.Decimal, false), (revision.Schema.Columns[1].Type, revision.Schema.Columns[1].Nullable));
        Assert.Equal((1L, 1L), (revision.Quality.Columns[1].InvalidCount, revision.Quality.Columns[2].InvalidCount));

        var error = await Rpc.FailsWith(StatusCode.InvalidArgument, () =>
            acme.UploadAsync(dataset.Name, new MemoryStream(csv), new UploadOptions { MediaType = "text/csv", Schema = declared, Strict = true }));
        Assert.Contains("Row 2 of the CSV (line 3): its value in column 'amount' is not a value of its declared type DECIMAL", error.Status.Detail);

        var nulls = "id,amount\n1,3\n2,\n"u8.ToArray();
        error = await Rpc.FailsWith(StatusCode.InvalidArgument, () =>
            acme.UploadAsync(dataset.Name, new MemoryStream(nulls), new UploadOptions { MediaType = "text/csv", Schema = declared, Strict = true }));
        Assert.Contains("declared column 'day' is not in the CSV's header", error.Status.Detail);

        var notNullable = new Schema { Columns = { new Column { Name = "amount", Type = ColumnType.Int64 } } };
        error = await Rpc.FailsWith(StatusCode.InvalidArgument, () =>
            acme.UploadAsync(dataset.Name, new MemoryStream(nulls), new UploadOptions { MediaType = "text/csv", Schema = notNullable, Strict = true }));
        Assert.Contains("Row 2 of the CSV (line 3): its value in column 'amount' is empty, and the column is declared not nullable", error.Status.Detail);

        var revisions = (await acme.Catalog.ListRevisionsAsync(new ListRevisionsRequest { Parent = dataset.Name })).Revisions;
        Assert.Equal([revision.Name], revisions.Select(r => r.Name));
    }

    public static TheoryData<string, Func<Stream>, string> Malformed => new()
    {
        { "ragged, strict", () => Bytes("a,b\n1,2\n3\n"), "Row 2 of the CSV (line 3) has 1 fields, not the header's 2" },
        { "invalid UTF-8", () => new MemoryStream([.. "a,b\n1,"u8, 0xC3, 0x28, .. "\n"u8]), "not valid UTF-8" },
        { "100,000 columns", () => Bytes(string.Join(',', Enumerable.Range(0, 100_000).Select(i => $"c{i}")) + "\n"), "100000 columns, more than the 1000" },
        { "a 1 GiB field", () => new EndlessField(1L << 30), "Row 1 of the CSV (the header is row 0) is longer than 4194304 bytes" },
        { "an unclosed quote", () => Bytes("a,b\n1,\"2\n3,4\n"), "Row 1 of the CSV (the header is row 0) opens a quoted field that is never closed" },
        { "a column named twice", () => Bytes("a,b,a\n1,2,3\n"), "header is not usable" },
        { "a column without a name", () => Bytes("a,,c\n1,2,3\n"), "Column 2 of the CSV's header has no name" },
        { "no header", () => Bytes(""), "starts with a header row" },
        // A UTF-16 byte-order mark is not a switch of encoding, whose newlines the row limit would not see.
        { "UTF-16", () => new MemoryStream([0xFF, 0xFE, .. Encoding.Unicode.GetBytes("a,b\n1,2\n")]), "not valid UTF-8" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task A_malformed_csv_is_refused_naming_the_row_or_column_and_leaves_nothing(string what, Func<Stream> content, string message)
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme);
        var blobs = Gateway.BlobFiles().Count;

        var error = await Rpc.FailsWith(StatusCode.InvalidArgument, () =>
            acme.UploadAsync(dataset.Name, content(), new UploadOptions { MediaType = "text/csv", Strict = what.EndsWith("strict", StringComparison.Ordinal) }));
        Assert.Contains(message, error.Status.Detail);
        Assert.Contains("nothing was stored", error.Status.Detail);

        Assert.Empty((await acme.Catalog.ListRevisionsAsync(new ListRevisionsRequest { Parent = dataset.Name })).Revisions);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (Gateway.BlobFiles().Count > blobs && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(blobs, Gateway.BlobFiles().Count);
    }

    [Fact]
    public async Task Ragged_rows_of_a_lenient_upload_are_counted_and_a_schema_on_opaque_bytes_is_refused()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme);
        var revision = await acme.UploadAsync(dataset.Name, Bytes("a,b\n1,2\n3\n4,5,6\n\"7\",\"8\"\n"), new UploadOptions { MediaType = "text/csv" });
        Assert.Equal((4L, 2L), (revision.Quality.RowCount, revision.Quality.RowsBreakingSchema));
        Assert.Equal(1, revision.Quality.Columns[1].NullCount);

        var opaque = await acme.UploadAsync(dataset.Name, Bytes("a,b\n"), new UploadOptions { MediaType = "application/octet-stream" });
        Assert.Equal((TableFormat.Unspecified, null, null), (opaque.Format, opaque.Schema, opaque.Quality));
        var error = await Rpc.FailsWith(StatusCode.InvalidArgument, () => acme.UploadAsync(dataset.Name, Bytes("a\n"),
            new UploadOptions { MediaType = "application/octet-stream", Strict = true }));
        Assert.Contains("header.schema and header.strict are for tables", error.Status.Detail);
    }

    [Fact]
    public async Task The_catalog_filters_on_the_completeness_of_each_dataset_s_latest_table()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        var tag = $"complete-{Guid.NewGuid():N}"[..30];
        async Task<Dataset> ListedAsync(string csv)
        {
            var dataset = await CatalogFixture.CreateAsync(acme, tags: [tag]);
            await acme.UploadAsync(dataset.Name, Bytes(csv), new UploadOptions { MediaType = "text/csv" });
            return (await acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name })).Dataset;
        }

        var full = await ListedAsync("a,b\n1,2\n3,4\n");
        var gappy = await ListedAsync("a,b\n1,\n3,4\n");
        var opaque = await CatalogFixture.CreateAsync(acme, DatasetState.Listed, tags: [tag]);
        await acme.UploadAsync(opaque.Name, Bytes("a,b\n1,2\n"), new UploadOptions { MediaType = "application/octet-stream" });

        async Task<IEnumerable<string>> NamesAsync(double min) =>
            (await initech.Catalog.ListDatasetsAsync(new ListDatasetsRequest { Tag = tag, MinCompleteness = min })).Datasets.Select(d => d.Name);
        Assert.Equal([full.Name, gappy.Name, opaque.Name], await NamesAsync(0));
        Assert.Equal([full.Name, gappy.Name], await NamesAsync(0.75));
        Assert.Equal([full.Name], await NamesAsync(0.9));

        // A newer revision decides: the complete one's gaps now show.
        await acme.UploadAsync(full.Name, Bytes("a,b\n,\n"), new UploadOptions { MediaType = "text/csv" });
        Assert.Empty(await NamesAsync(0.9));

        var error = await Rpc.FailsWith(StatusCode.InvalidArgument, initech.Catalog.ListDatasetsAsync(new ListDatasetsRequest { MinCompleteness = 1.5 }));
        Assert.Contains("min_completeness", error.Status.Detail);
    }

    private static MemoryStream Bytes(string text) => new(Encoding.UTF8.GetBytes(text));

    /// <summary>A header, then one field that goes on for <c>length</c> bytes, produced as read.</summary>
    private sealed class EndlessField(long length) : Stream
    {
        private static readonly byte[] Header = "a,b\n1,"u8.ToArray();
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            for (var i = 0; i < n; i++)
            {
                var at = _position + i;
                buffer[offset + i] = at < Header.Length ? Header[at] : (byte)'x';
            }

            _position += n;
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
