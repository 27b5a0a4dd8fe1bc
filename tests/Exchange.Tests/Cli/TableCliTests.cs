using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;

namespace Exchange.Tests.Cli;

/// <summary>A provider uploads a CSV from the CLI and anyone who may see the dataset reads its schema and quality in <c>datasets get</c>.</summary>
public sealed class TableCliTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
{
    [Fact]
    public async Task A_csv_file_uploads_as_a_table_and_datasets_get_prints_its_columns_and_quality()
    {
        using var acme = Gateway.As(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme);
        Directory.CreateDirectory(Gateway.DataDirectory);
        var file = Path.Combine(Gateway.DataDirectory, "readings.csv");
        await File.WriteAllTextAsync(file, "station,celsius,day\nbergen,4.5,2026-11-30\noslo,,2026-11-29\nbergen,-1.25,2026-11-28\n");

        // No --media-type: a .csv file is a table.
        var (exit, output, error) = await Gateway.RunCliAsync(Participant.Acme, "upload", dataset.Name, file,
            "--describable", "station", "--column", "celsius:decimal?");
        Assert.True(exit == 0, error);
        Assert.True(output.Contains("CSV table, 3 rows, 88.9% of cells filled, 0 duplicate rows, 0 rows breaking the schema", StringComparison.Ordinal), output);

        await acme.Catalog.PublishDatasetAsync(new V1.PublishDatasetRequest { Name = dataset.Name });
        (exit, output, error) = await Gateway.RunCliAsync(Participant.Initech, "datasets", "get", dataset.Name);
        Assert.True(exit == 0, error);
        Assert.Matches(@"station\s*│\s*STRING \(describable\)\s*│\s*no\s*│\s*100\.0%\s*│\s*100\.0%\s*│\s*2\s*│\s*bergen \.\. oslo\s*│\s*│\s*bergen \(2\), oslo \(1\)", output);
        Assert.Matches(@"celsius\s*│\s*DECIMAL\s*│\s*yes\s*│\s*66\.7%", output);
        Assert.Matches(@"day\s*│\s*DATE\s*│\s*no\s*│.*│\s*\d+d \d+h", output);

        (exit, _, error) = await Gateway.RunCliAsync(Participant.Acme, "upload", dataset.Name, file, "--column", "celsius:money");
        Assert.NotEqual(0, exit);
        Assert.Contains("'money' is not a column type", error);
    }

    [Fact]
    public async Task Parquet_and_arrow_files_upload_as_tables_by_their_extension()
    {
        using var acme = Gateway.As(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme);
        Directory.CreateDirectory(Gateway.DataDirectory);
        V1.Column[] columns = [new() { Name = "station", Type = V1.ColumnType.String }, new() { Name = "celsius", Type = V1.ColumnType.Double }];
        foreach (var (extension, format, name) in new[] { (".parquet", V1.TableFormat.Parquet, "PARQUET"), (".arrows", V1.TableFormat.ArrowIpc, "ARROW_IPC") })
        {
            var file = Path.Combine(Gateway.DataDirectory, $"readings{extension}");
            await using (var output = File.Create(file))
            {
                using var writer = Server.Tables.TableFormats.Writer(format, output, columns);
                foreach (var (station, celsius) in new[] { ("bergen", "4.5"), ("oslo", "") })
                {
                    writer.Set(0, station);
                    writer.Set(1, celsius);
                    writer.EndRow();
                }

                writer.Finish();
            }

            var (exit, printed, error) = await Gateway.RunCliAsync(Participant.Acme, "upload", dataset.Name, file);
            Assert.True(exit == 0, error);
            Assert.True(printed.Contains($"{name} table, 2 rows, 75.0% of cells filled", StringComparison.Ordinal), printed);
        }
    }
}
