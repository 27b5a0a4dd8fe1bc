using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using Exchange.Client.Transfers;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.Core;
using Parquet;
using Parquet.Schema;
using Column = Exchange.V1.Column;
using Field = Apache.Arrow.Field;
using Schema = Exchange.V1.Schema;

namespace Exchange.Tests.Tables;

/// <summary>
/// A Parquet or Arrow upload becomes a table: its schema is the file's own (smaller integers as
/// INT64, floats as DOUBLE), its quality is measured once it is stored, and a file that does not read
/// as its format, or holds a column a table cannot, is refused naming it and leaves nothing.
/// </summary>
public sealed class ColumnarUploadTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
{
    private static readonly string[] Stations = ["bergen", "oslo", "tromsø"];

    /// <summary>Ten readings, written with Parquet.Net's own types: the station of row 3, two celsius values and one of each other column are null.</summary>
    private static async Task<byte[]> ReadingsParquetAsync()
    {
        var fields = new DataField[]
        {
            new DataField<string>("station", nullable: true),
            new DataField<int>("reading"),
            new DataField<double?>("celsius"),
            new DecimalDataField("price", 10, 2, isNullable: true),
            new DataField<bool?>("ok"),
            new DataField<DateOnly?>("day"),
            new DateTimeDataField("at", DateTimeFormat.Timestamp, isAdjustedToUTC: true, DateTimeTimeUnit.Micros, isNullable: true),
        };
        var rows = Enumerable.Range(1, 10).ToArray();
        using var file = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), file, new ParquetOptions { UseDateOnlyTypeForDates = true }))
        {
            using var group = writer.CreateRowGroup();
            await group.WriteAsync(fields[0], rows.Select(i => i == 3 ? null : Stations[i % 3]).ToArray());
            await group.WriteAsync(fields[1], new ReadOnlyMemory<int>(rows));
            await group.WriteAsync(fields[2], new ReadOnlyMemory<double?>([.. rows.Select(i => i is 4 or 5 ? null : (double?)(i * 0.5) - 2)]));
            await group.WriteAsync(fields[3], new ReadOnlyMemory<decimal?>([.. rows.Select(i => i == 6 ? null : (decimal?)(i * 1.25m))]));
            await group.WriteAsync(fields[4], new ReadOnlyMemory<bool?>([.. rows.Select(i => i == 7 ? null : (bool?)(i % 2 == 0))]));
            await group.WriteAsync(fields[5], new ReadOnlyMemory<DateOnly?>([.. rows.Select(i => i == 8 ? null : (DateOnly?)new DateOnly(2026, 11, i))]));
            await group.WriteAsync(fields[6], new ReadOnlyMemory<DateTime?>([.. rows.Select(i => i == 9 ? null : (DateTime?)new DateTime(2026, 11, 20, i, 30, 0, DateTimeKind.Utc))]));
            group.CompleteValidate();
        }

        return file.ToArray();
    }

    [Fact]
    public async Task A_parquet_upload_shows_the_file_s_schema_and_its_quality()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme);
        var revision = await acme.UploadAsync(dataset.Name, new MemoryStream(await ReadingsParquetAsync()), new UploadOptions
        {
            MediaType = "application/vnd.apache.parquet",
            Schema = new Schema { Columns = { new Column { Name = "station", Describable = true }, new Column { Name = "reading", Describable = true } } },
        });

        Assert.Equal(TableFormat.Parquet, revision.Format);
        Assert.Equal(
            [
                ("station", ColumnType.String, true, true),
                ("reading", ColumnType.Int64, false, true),
                ("celsius", ColumnType.Double, true, false),
                ("price", ColumnType.Decimal, true, false),
                ("ok", ColumnType.Bool, true, false),
                ("day", ColumnType.Date, true, false),
                ("at", ColumnType.Timestamp, true, false),
            ],
            revision.Schema.Columns.Select(c => (c.Name, c.Type, c.Nullable, c.Describable)));

        var quality = revision.Quality;
        Assert.Equal((10L, 0L, 0L), (quality.RowCount, quality.DuplicateRowEstimate, quality.RowsBreakingSchema));
        Assert.Equal([1L, 0L, 2L, 1L, 1L, 1L, 1L], quality.Columns.Select(c => c.NullCount));
        Assert.All(quality.Columns, c => Assert.Equal((0L, 1.0), (c.InvalidCount, c.Validity)));
        Assert.Equal(1 - (7.0 / 70), quality.Completeness, 9);

        var columns = quality.Columns.ToDictionary(c => c.Name);
        Assert.Equal(("bergen", "tromsø"), (columns["station"].Min, columns["station"].Max));
        Assert.Equal(("1", "10", 10L), (columns["reading"].Min, columns["reading"].Max, columns["reading"].DistinctEstimate));
        Assert.Equal(("", ""), (columns["celsius"].Min, columns["celsius"].Max));
        var newest = new DateTimeOffset(2026, 11, 20, 10, 30, 0, TimeSpan.Zero);
        Assert.Equal(revision.CreateTime.ToDateTimeOffset() - newest, columns["at"].NewestAge.ToTimeSpan());
    }

    [Fact]
    public async Task An_arrow_stream_upload_shows_its_schema_and_quality_and_a_declared_type_is_checked()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme);
        var stream = ArrowStream(
            new Field("code", StringType.Default, nullable: true),
            new StringArray.Builder().Append("7").Append("x").AppendNull().Append("7").Build(),
            new Field("n", Int16Type.Default, nullable: true),
            new Int16Array.Builder().Append(3).AppendNull().Append(-4).Append(3).Build(),
            new Field("f", FloatType.Default, nullable: false),
            new FloatArray.Builder().Append(1.1f).Append(2).Append(3).Append(1.1f).Build());

        var revision = await acme.UploadAsync(dataset.Name, new MemoryStream(stream), new UploadOptions
        {
            MediaType = "application/vnd.apache.arrow.stream",
            Schema = new Schema
            {
                Columns =
                {
                    new Column { Name = "n", Describable = true },
                    new Column { Name = "f", Describable = true },
                    new Column { Name = "code", Type = ColumnType.Int64, Nullable = true },
                },
            },
        });

        Assert.Equal(TableFormat.ArrowIpc, revision.Format);
        Assert.Equal(
            [("code", ColumnType.Int64, true), ("n", ColumnType.Int64, true), ("f", ColumnType.Double, false)],
            revision.Schema.Columns.Select(c => (c.Name, c.Type, c.Nullable)));
        // Row 4 repeats row 1; "x" is no INT64, so row 2 breaks the declared schema.
        Assert.Equal((4L, 1L, 1L), (revision.Quality.RowCount, revision.Quality.DuplicateRowEstimate, revision.Quality.RowsBreakingSchema));
        var columns = revision.Quality.Columns.ToDictionary(c => c.Name);
        Assert.Equal((1L, 1L), (columns["code"].NullCount, columns["code"].InvalidCount));
        Assert.Equal((1L, "-4", "3"), (columns["n"].NullCount, columns["n"].Min, columns["n"].Max));
        Assert.Equal(("1.1", "3"), (columns["f"].Min, columns["f"].Max));

        var error = await Rpc.FailsWith(StatusCode.InvalidArgument, () => acme.UploadAsync(dataset.Name, new MemoryStream(stream), new UploadOptions
        {
            MediaType = "application/vnd.apache.arrow.stream",
            Schema = new Schema { Columns = { new Column { Name = "code", Type = ColumnType.Int64, Nullable = true } } },
            Strict = true,
        }));
        Assert.Contains("Row 2 of the Arrow IPC table (the first is row 1): its value in column 'code' is not a value of its declared type INT64", error.Status.Detail);
    }

    public static TheoryData<string, string, Func<byte[]>, string> Refused => new()
    {
        { "not parquet", "application/vnd.apache.parquet", () => [.. Enumerable.Range(0, 5000).Select(i => (byte)(i * 7))], "not a readable Parquet file" },
        { "not arrow", "application/vnd.apache.arrow.file", () => "ARROW1 but no more"u8.ToArray(), "not a readable Arrow IPC file" },
        {
            "a list column", "application/vnd.apache.arrow.stream",
            () => ArrowStream(new Field("tags", new ListType(StringType.Default), nullable: true), new ListArray.Builder(StringType.Default).AppendNull().Build()),
            "Column 'tags' of the Arrow table is of type list, which a table does not hold"
        },
        {
            "a declared column missing", "application/vnd.apache.arrow.stream",
            () => ArrowStream(new Field("a", Int64Type.Default, nullable: true), new Int64Array.Builder().Append(1).Build()),
            "The declared column 'missing' is not in the Arrow IPC file's columns (a)"
        },
        {
            // A few compressed bytes that decode to a row longer than a CSV's may be.
            "a 5 MiB row", "application/vnd.apache.arrow.stream",
            () => ArrowStream(new Field("text", StringType.Default, nullable: true), new StringArray.Builder().Append(new string('x', 5 << 20)).Build()),
            "Row 1 of the Arrow IPC table holds 5242880 characters, more than the 4194304 a row may"
        },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task A_file_that_does_not_read_as_a_table_is_refused_naming_why_and_leaves_nothing(string what, string mediaType, Func<byte[]> content, string message)
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme);
        var blobs = Gateway.BlobFiles().Count;
        var declared = what.Contains("missing", StringComparison.Ordinal) ? new Schema { Columns = { new Column { Name = "missing" } } } : null;

        var error = await Rpc.FailsWith(StatusCode.InvalidArgument, () =>
            acme.UploadAsync(dataset.Name, new MemoryStream(content()), new UploadOptions { MediaType = mediaType, Schema = declared }));
        Assert.Contains(message, error.Status.Detail);
        Assert.EndsWith("nothing was stored.", error.Status.Detail);

        Assert.Empty((await acme.Catalog.ListRevisionsAsync(new ListRevisionsRequest { Parent = dataset.Name })).Revisions);
        Assert.Equal(blobs, Gateway.BlobFiles().Count);
    }

    /// <summary>An Arrow IPC stream of one record batch: pairs of a field and its array.</summary>
    private static byte[] ArrowStream(params object[] columns)
    {
        var fields = columns.OfType<Field>().ToList();
        var arrays = columns.OfType<IArrowArray>().ToList();
        var schema = new Apache.Arrow.Schema(fields, null);
        using var output = new MemoryStream();
        using (var writer = new ArrowStreamWriter(output, schema, leaveOpen: true))
        {
            writer.WriteRecordBatch(new RecordBatch(schema, arrays, arrays[0].Length));
            writer.WriteEnd();
        }

        return output.ToArray();
    }
}
