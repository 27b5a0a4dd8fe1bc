using Exchange.Server;
using Exchange.Server.Tables;
using Exchange.V1;

namespace Exchange.Tests.Tables;

/// <summary>Rows written as Parquet or Arrow read back as the same values, and the same rows always give the same bytes.</summary>
public sealed class TableFormatRoundTripTests
{
    private static readonly Column[] Columns =
    [
        new() { Name = "name", Type = ColumnType.String },
        new() { Name = "count", Type = ColumnType.Int64 },
        new() { Name = "ratio", Type = ColumnType.Double },
        new() { Name = "price", Type = ColumnType.Decimal },
        new() { Name = "ok", Type = ColumnType.Bool },
        new() { Name = "day", Type = ColumnType.Date },
        new() { Name = "at", Type = ColumnType.Timestamp },
    ];

    /// <summary>Rows in the text forms the readers give, with a null in every column.</summary>
    private static readonly string[][] Rows =
    [
        ["bergen", "-42", "0.1", "12.50", "true", "2026-12-01", "2026-12-01T08:30:00Z"],
        ["", "9223372036854775807", "6.02E+23", "-0.05", "false", "1970-01-01", "1999-12-31T23:59:59.123456Z"],
        ["tromsø, \"north\"", "", "", "", "", "", ""],
        ["oslo", "0", "-1.5", "100000000000000000.25", "true", "9999-12-31", "2026-01-01T00:00:00Z"],
    ];

    public static TheoryData<TableFormat> Formats => [TableFormat.Parquet, TableFormat.ArrowIpc];

    [Theory]
    [MemberData(nameof(Formats))]
    public void Rows_of_every_type_with_nulls_read_back_as_written(TableFormat format)
    {
        var bytes = Write(format, Rows);

        Assert.Equal(Rows, ReadAll(format, bytes, out var columns));
        Assert.Equal(Columns.Select(c => (c.Name, c.Type)), columns.Select(c => (c.Name, c.Type)));
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void The_same_rows_give_the_same_bytes_across_row_groups(TableFormat format)
    {
        // Over 65,536 rows: more than one row group or record batch.
        var many = Enumerable.Range(0, 70_000).Select(i => Rows[i % Rows.Length]).ToArray();
        var first = Write(format, many);

        Assert.Equal(first, Write(format, many));
        Assert.Equal(many, ReadAll(format, first, out _));
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void A_value_not_of_its_column_s_type_is_written_as_null_and_an_empty_table_reads_as_none(TableFormat format)
    {
        string[][] typo = [["x", "forty", "n/a", "1,5", "yes", "2026-13-01", "noon"]];
        Assert.Equal([["x", "", "", "", "", "", ""]], ReadAll(format, Write(format, typo), out _));

        Assert.Empty(ReadAll(format, Write(format, []), out var columns));
        Assert.Equal(Columns.Length, columns.Count);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void A_decimal_column_is_written_at_the_scale_its_profile_found_not_only_its_first_batch_s(TableFormat format)
    {
        // A whole first row group, then 19.99: the column's profile (scale 2) keeps the cents.
        Column[] prices = [new() { Name = "price", Type = ColumnType.Decimal, Scale = 2 }];
        using var output = new MemoryStream();
        using (var writer = TableFormats.Writer(format, output, prices))
        {
            for (var i = 0; i <= RowBatch.Rows; i++)
            {
                writer.Set(0, i < RowBatch.Rows ? "20" : "19.99");
                writer.EndRow();
            }

            writer.Finish();
        }

        using var reader = TableFormats.Reader(format, new MemoryStream(output.ToArray()));
        var last = "";
        while (reader.Read())
        {
            last = reader[0].ToString();
        }

        Assert.Equal("19.99", last);
    }

    [Fact]
    public void Arrow_reads_the_file_format_too()
    {
        var stream = Write(TableFormat.ArrowIpc, Rows);
        using var file = new MemoryStream();
        using (var reader = new Apache.Arrow.Ipc.ArrowStreamReader(new MemoryStream(stream)))
        {
            using var writer = new Apache.Arrow.Ipc.ArrowFileWriter(file, reader.Schema, leaveOpen: true);
            while (reader.ReadNextRecordBatch() is { } batch)
            {
                writer.WriteRecordBatch(batch);
            }

            writer.WriteEnd();
        }

        Assert.Equal(Rows, ReadAll(TableFormat.ArrowIpc, file.ToArray(), out _));
    }

    [Fact]
    public void A_column_of_a_type_a_table_does_not_hold_is_refused_naming_it()
    {
        var schema = new Apache.Arrow.Schema.Builder()
            .Field(f => f.Name("id").DataType(Apache.Arrow.Types.Int32Type.Default))
            .Field(f => f.Name("tags").DataType(new Apache.Arrow.Types.ListType(Apache.Arrow.Types.StringType.Default)))
            .Build();
        using var stream = new MemoryStream();
        using (var writer = new Apache.Arrow.Ipc.ArrowStreamWriter(stream, schema, leaveOpen: true))
        {
            writer.WriteStart();
            writer.WriteEnd();
        }

        stream.Position = 0;
        var refusal = Assert.Throws<Refusal>(() => TableFormats.Reader(TableFormat.ArrowIpc, stream));
        Assert.Contains("Column 'tags' of the Arrow table is of type list", refusal.Message);
    }

    [Fact]
    public void A_parquet_row_group_too_large_to_hold_is_refused_before_it_is_read()
    {
        var bytes = Write(TableFormat.Parquet, [.. Enumerable.Repeat(Rows[0], 20)]);

        using var reader = new ParquetTableReader(new MemoryStream(bytes), maxRowGroupValues: 100);
        var refusal = Assert.Throws<Refusal>(() => reader.Read());
        Assert.Contains("Row group 1 of the Parquet file holds 20 rows of 7 columns, more than the 100 values", refusal.Message);
    }

    private static byte[] Write(TableFormat format, string[][] rows)
    {
        using var output = new MemoryStream();
        using (var writer = TableFormats.Writer(format, output, Columns))
        {
            foreach (var row in rows)
            {
                for (var i = 0; i < row.Length; i++)
                {
                    writer.Set(i, row[i]);
                }

                writer.EndRow();
            }

            writer.Finish();
        }

        return output.ToArray();
    }

    private static List<string[]> ReadAll(TableFormat format, byte[] bytes, out IReadOnlyList<Column> columns)
    {
        using var reader = TableFormats.Reader(format, new MemoryStream(bytes));
        columns = reader.Columns;
        var rows = new List<string[]>();
        while (reader.Read())
        {
            var row = new string[reader.Columns.Count];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader[i].ToString();
            }

            rows.Add(row);
        }

        return rows;
    }
}
