using System.Security.Cryptography;
using System.Text;
using Exchange.Client;
using Exchange.Client.Transfers;
using Exchange.Tests.Access;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Exchange.Tests.Tables;

/// <summary>
/// A consumer asks for part of a table, the provider narrows it, and every byte delivered under the
/// grant is that part: the columns allowed, the rows the filter keeps, the values masked.
/// </summary>
public sealed class ViewDeliveryTests(ExchangeFactory gateway) : SharedGatewayTests(gateway)
{
    private const string People = """
        id,name,city,birth_date,income,email
        1,Ann,Bergen,1980-05-17,52000.50,ann@example.no
        2,Bo,Oslo,1975-11-02,61000,bo@example.no
        3,Cy,Bergen,1990-01-30,,cy@example.no
        4,Di,Tromsø,2001-07-04,43000.25,di@example.no
        5,Ed,Bergen,,70000,"ed, jr@example.no"

        """;

    private static Predicate Compare(string column, ComparisonOperator op, params string[] values) =>
        new() { Comparison = new Comparison { Column = column, Operator = op, Values = { values } } };

    private static Predicate All(params Predicate[] predicates) => new() { All = new PredicateList { Predicates = { predicates } } };

    private static Mask Year(string column) => new() { Column = column, Kind = MaskKind.Generalise, Unit = DateUnit.Year };

    private async Task<Dataset> PeopleAsync(ExchangeClient provider)
    {
        var dataset = await CatalogFixture.CreateAsync(provider);
        await provider.UploadAsync(dataset.Name, new MemoryStream(Encoding.UTF8.GetBytes(People)), new UploadOptions { MediaType = "text/csv" });
        return (await provider.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name })).Dataset;
    }

    private static View Requested() => new()
    {
        Columns = { "id", "city", "birth_date", "income", "email" },
        RowFilter = Compare("city", ComparisonOperator.Equal, "Bergen"),
        Masks = { Year("birth_date") },
    };

    [Fact]
    public async Task A_narrowed_view_delivers_only_the_allowed_columns_rows_and_masked_values_and_the_receipt_names_it()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        var dataset = await PeopleAsync(acme);
        var request = await initech.RequestAsync(dataset, terms: new Terms { View = Requested() });
        Assert.Equal(Requested(), request.RequestedTerms.View);

        // The provider drops city, keeps only the better paid of Bergen, and masks more.
        var narrowed = new View
        {
            Columns = { "id", "birth_date", "income", "email" },
            RowFilter = All(Compare("city", ComparisonOperator.Equal, "Bergen"), Compare("income", ComparisonOperator.GreaterOrEqual, "50000")),
            Masks =
            {
                Year("birth_date"),
                new Mask { Column = "income", Kind = MaskKind.Bucket, Width = "10000" },
                new Mask { Column = "email", Kind = MaskKind.Hash },
            },
        };
        var grant = await acme.ApproveAsync(request, new Terms { View = narrowed });
        Assert.Equal(narrowed, grant.Terms.View);

        var (header, bytes, _) = await initech.DownloadAllAsync(grant.Name);
        Assert.Equal((TableFormat.Csv, 0L, 0), (header.Format, header.SizeBytes, header.Sha256.Length));
        Assert.Equal(SHA256.HashData(narrowed.ToByteArray()), header.ViewSha256.ToByteArray());
        var lines = Encoding.UTF8.GetString(bytes).Split('\n');
        Assert.Equal("id,birth_date,income,email", lines[0]);
        // Cy's income is null, so "income >= 50000" is unknown and Cy is not delivered; Ed has no birth date.
        Assert.Equal(4, lines.Length);
        Assert.Matches("^1,1980-01-01,50000,[0-9a-f]{64}$", lines[1]);
        Assert.Matches("^5,,70000,[0-9a-f]{64}$", lines[2]);
        Assert.Equal("", lines[3]);
        Assert.DoesNotContain("Ann", Encoding.UTF8.GetString(bytes));
        Assert.DoesNotContain("example.no", Encoding.UTF8.GetString(bytes));

        // The same view on the same revision is the same bytes, whoever asks how often.
        Assert.Equal(bytes, (await initech.DownloadAllAsync(grant.Name)).Bytes);

        // Hashes join within the grant, not across grants: another grant hashes the same email differently.
        using var umbrella = Gateway.ClientFor(Participant.Umbrella);
        var other = await acme.ApproveAsync(await umbrella.RequestAsync(dataset, terms: new Terms { View = Requested() }), new Terms { View = narrowed });
        var otherLines = Encoding.UTF8.GetString((await umbrella.DownloadAllAsync(other.Name)).Bytes).Split('\n');
        Assert.Equal(lines[1].Split(',')[..3], otherLines[1].Split(',')[..3]);
        Assert.NotEqual(lines[1].Split(',')[3], otherLines[1].Split(',')[3]);

        // The receipt's event records the whole delivery and the view that shaped it; it verifies against what arrived.
        var result = await initech.DownloadToFileAsync(grant.Name, Path.Combine(Gateway.DataDirectory, $"people-{Guid.NewGuid():N}.csv"),
            new DownloadOptions { Purpose = "research" });
        Assert.True(result.Verification.Succeeded, result.Verification.Message);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(result.Path));
        var details = result.Receipt.Event.Details.ToDictionary(d => d.Key, d => d.Value);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(narrowed.ToByteArray())), details["view_sha256"]);
        Assert.Equal((Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes.Length.ToString(), "csv"),
            (details["sha256"], details["bytes_sent"], details["format"]));
        Assert.Equal(bytes.Length, (await initech.Transfers.GetTransferAsync(new GetTransferRequest { Name = result.Transfer })).Transfer.SizeBytes);
    }

    [Fact]
    public async Task An_interrupted_encoded_download_resumes_with_the_same_bytes_and_a_receipt_for_the_whole()
    {
        // Small chunks, so a few hundred rows span several messages.
        using var gateway = ExchangeFactory.With(("Exchange:Transfers:ChunkSize", "4096"));
        using var acme = gateway.ClientFor(Participant.Acme);
        using var initech = gateway.ClientFor(Participant.Initech);
        var csv = new StringBuilder("id,city,birth_date,income,email\n");
        for (var i = 0; i < 10_000; i++)
        {
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"{i},{(i % 3 == 0 ? "Oslo" : "Bergen")},1980-01-{i % 28 + 1:00},{i * 10},p{i % 7}@example.no\n");
        }

        var dataset = await CatalogFixture.CreateAsync(acme);
        await acme.UploadAsync(dataset.Name, new MemoryStream(Encoding.UTF8.GetBytes(csv.ToString())), new UploadOptions { MediaType = "text/csv" });
        await acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name });
        var view = Requested();
        view.Masks.Add(new Mask { Column = "email", Kind = MaskKind.Hash });
        var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset, terms: new Terms { View = view, MaxTransfers = 2 }));
        var whole = (await initech.DownloadAllAsync(grant.Name)).Bytes;
        Assert.True(whole.Length > 5 * 4096);

        // Thousands of rows pass through masking in several blocks (some masked by each of the delivery's two threads): an email hashes alike everywhere.
        var hashes = Encoding.UTF8.GetString(whole).Split('\n')[1..^1].Select(line => line.Split(','))
            .GroupBy(fields => long.Parse(fields[0], System.Globalization.CultureInfo.InvariantCulture) % 7, fields => fields[4]);
        Assert.All(hashes, group => Assert.Single(group.Distinct()));
        Assert.Equal(7, hashes.Count());

        var (transfer, received) = await initech.InterruptAsync(grant.Name, 3 * 4096);
        var interrupted = await initech.WaitForTransferAsync(transfer, TransferState.Failed);
        var from = (int)Math.Min(received.Length, interrupted.BytesSent);
        var error = await Rpc.FailsWith(StatusCode.InvalidArgument,
            () => initech.DownloadAllAsync(grant.Name, offset: from, transfer: transfer, format: TableFormat.Parquet));
        Assert.Contains("resume it in the same format", error.Status.Detail);

        var (header, rest, trailer) = await initech.DownloadAllAsync(grant.Name, offset: from, transfer: transfer);
        Assert.Equal((transfer, TableFormat.Csv), (header.Transfer, header.Format));
        Assert.Equal(whole, received[..from].Concat(rest).ToArray());
        Assert.Equal(SHA256.HashData(rest), trailer.Sha256.ToByteArray());
        var receipt = trailer.Receipt.Event.Details.ToDictionary(d => d.Key, d => d.Value);
        Assert.Equal((Convert.ToHexStringLower(SHA256.HashData(whole)), whole.Length.ToString()), (receipt["sha256"], receipt["bytes_sent"]));
    }

    [Fact]
    public async Task The_provider_previews_what_a_grant_delivers_and_nobody_else_may()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        using var auditor = Gateway.ClientFor(Participant.Auditor);
        var dataset = await PeopleAsync(acme);
        var view = Requested();
        view.Masks.Add(new Mask { Column = "email", Kind = MaskKind.Truncate, Length = 3 });
        var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset, terms: new Terms { View = view }));

        var preview = await acme.Transfers.PreviewDeliveryAsync(new PreviewDeliveryRequest { Grant = grant.Name, RowCount = 2 });
        Assert.Equal(["id", "city", "birth_date", "income", "email"], preview.Columns.Select(c => c.Name));
        Assert.Equal([["1", "Bergen", "1980-01-01", "52000.50", "ann"], ["3", "Bergen", "1990-01-01", "", "cy@"]],
            preview.Rows.Select(r => r.Values.ToArray()));
        Assert.Equal(SHA256.HashData(view.ToByteArray()), preview.ViewSha256.ToByteArray());
        Assert.Equal(0, (await acme.Access.GetGrantAsync(new GetGrantRequest { Name = grant.Name })).Grant.TransfersUsed);

        var error = await Rpc.FailsWith(StatusCode.PermissionDenied, initech.Transfers.PreviewDeliveryAsync(new PreviewDeliveryRequest { Grant = grant.Name }));
        Assert.Contains("may preview what it delivers", error.Status.Detail);
        await Rpc.FailsWith(StatusCode.NotFound, Gateway.ClientFor(Participant.Globex).Transfers.PreviewDeliveryAsync(new PreviewDeliveryRequest { Grant = grant.Name }));

        // The grant's provider, on a token that no longer says provider, sees no rows either.
        using var acmeAsConsumer = Gateway.ClientFor(Participant.Acme.Id, "consumer");
        error = await Rpc.FailsWith(StatusCode.PermissionDenied, acmeAsConsumer.Transfers.PreviewDeliveryAsync(new PreviewDeliveryRequest { Grant = grant.Name }));
        Assert.Contains("'provider' role", error.Status.Detail);

        var logged = (await auditor.Audit.ListAuditEventsAsync(new ListAuditEventsRequest { Action = "transfer.preview", Dataset = dataset.Name })).Events;
        Assert.Equal([("acme", AuditOutcome.Success), ("initech", AuditOutcome.Denied), ("acme", AuditOutcome.Denied)], logged.Select(e => (e.Actor, e.Outcome)));
    }

    [Fact]
    public async Task Automatic_approval_terms_carry_a_view_and_a_request_for_more_of_the_table_waits_for_the_provider()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        using var umbrella = Gateway.ClientFor(Participant.Umbrella);
        var dataset = await PeopleAsync(acme);
        var open = new Terms { Purposes = { "research" }, View = Requested() };
        dataset.AutoApprovalTerms = open;
        await acme.Catalog.UpdateDatasetAsync(new UpdateDatasetRequest { Dataset = dataset, UpdateMask = new() { Paths = { "auto_approval_terms" } } });

        // Asking for no view asks for what the automatic terms allow, and is approved at once with their view.
        var approved = (await initech.Access.RequestAccessAsync(new RequestAccessRequest { Dataset = dataset.Name, Purpose = "research" })).AccessRequest;
        Assert.Equal(AccessRequestState.Approved, approved.State);
        var grant = (await initech.Access.GetGrantAsync(new GetGrantRequest { Name = approved.Grant })).Grant;
        Assert.Equal(Requested(), grant.Terms.View);

        var wider = Requested();
        wider.Columns.Add("name");
        var pending = await umbrella.RequestAsync(dataset, terms: new Terms { View = wider });
        Assert.Equal(AccessRequestState.Pending, pending.State);
        Assert.Contains("more of the table than the automatic view delivers", pending.DecisionReason);

        // Filtering on a column the automatic view hides or masks would tell its values by which rows come back: the provider decides.
        using var globex = Gateway.ClientFor("hoovers", "consumer");
        var probing = Requested();
        probing.RowFilter = new Predicate { All = new PredicateList { Predicates = { Requested().RowFilter, Compare("birth_date", ComparisonOperator.Less, "1985-01-01") } } };
        var probe = await globex.RequestAsync(dataset, terms: new Terms { View = probing });
        Assert.Equal(AccessRequestState.Pending, probe.State);
        Assert.Contains("conditions only on columns delivered unmasked; 'birth_date' is not", probe.DecisionReason);
        var hidden = Requested();
        hidden.RowFilter = Compare("name", ComparisonOperator.Equal, "Ann");
        using var other = Gateway.ClientFor("soylent", "consumer");
        Assert.Equal(AccessRequestState.Pending, (await other.RequestAsync(dataset, terms: new Terms { View = hidden })).State);
        var narrower = Requested();
        narrower.RowFilter = new Predicate { All = new PredicateList { Predicates = { Requested().RowFilter, Compare("income", ComparisonOperator.Greater, "60000") } } };
        using var third = Gateway.ClientFor("cyberdyne", "consumer");
        Assert.Equal(AccessRequestState.Approved, (await third.RequestAsync(dataset, terms: new Terms { View = narrower })).State);

        dataset.AutoApprovalTerms = new Terms { Purposes = { "research" }, View = new View { Columns = { "salary" } } };
        var error = await Rpc.FailsWith(StatusCode.InvalidArgument, acme.Catalog.UpdateDatasetAsync(
            new UpdateDatasetRequest { Dataset = dataset, UpdateMask = new() { Paths = { "auto_approval_terms" } } }));
        Assert.Contains("dataset.auto_approval_terms.view.columns[0]: the table has no column 'salary'", error.Status.Detail);
    }

    [Fact]
    public async Task An_automatic_view_a_newer_revision_left_behind_sends_the_request_to_the_provider_not_back_to_the_consumer()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        var dataset = await PeopleAsync(acme);
        dataset.AutoApprovalTerms = new Terms { Purposes = { "research" }, View = Requested() };
        await acme.Catalog.UpdateDatasetAsync(new UpdateDatasetRequest { Dataset = dataset, UpdateMask = new() { Paths = { "auto_approval_terms" } } });

        // The provider's next revision has no income column, which the automatic view names.
        await acme.UploadAsync(dataset.Name, new MemoryStream(Encoding.UTF8.GetBytes("id,name,city,birth_date,email\n1,Ann,Bergen,1980-05-17,ann@example.no\n")),
            new UploadOptions { MediaType = "text/csv" });

        var request = (await initech.Access.RequestAccessAsync(new RequestAccessRequest { Dataset = dataset.Name, Purpose = "research" })).AccessRequest;
        Assert.Equal(AccessRequestState.Pending, request.State);
        Assert.Contains("the automatic terms' view does not fit the latest revision", request.DecisionReason);
        Assert.Contains("no column 'income'", request.DecisionReason);
        Assert.Null(request.RequestedTerms.View);

        // The provider settles it with a view that fits.
        var fits = new View { Columns = { "id", "city" }, RowFilter = Compare("city", ComparisonOperator.Equal, "Bergen") };
        var grant = await acme.ApproveAsync(request, new Terms { View = fits });
        Assert.Equal(fits, grant.Terms.View);
    }

    [Theory]
    [InlineData(TableFormat.Parquet)]
    [InlineData(TableFormat.ArrowIpc)]
    public async Task A_view_delivered_as_parquet_or_arrow_holds_the_same_rows_as_the_csv(TableFormat format)
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        var grant = await acme.ApproveAsync(await initech.RequestAsync(await PeopleAsync(acme), terms: new Terms { View = Requested(), MaxTransfers = 3 }));

        var csv = Rows(TableFormat.Csv, (await initech.DownloadAllAsync(grant.Name)).Bytes, out var csvColumns);
        var (header, bytes, _) = await initech.DownloadAllAsync(grant.Name, format: format);
        Assert.Equal(format, header.Format);
        var typed = Rows(format, bytes, out var columns);
        // Decimals come back at the column's scale ("70000.00" for "70000"): the same values.
        static string[] Same(string[] row) => [.. row.Select((v, i) => i == 3 && v.Length > 0 ? decimal.Parse(v, System.Globalization.CultureInfo.InvariantCulture).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) : v)];
        Assert.Equal(csv.Select(Same), typed.Select(Same));
        Assert.Equal(["id", "city", "birth_date", "income", "email"], columns.Select(c => c.Name));
        Assert.Equal([ColumnType.Int64, ColumnType.String, ColumnType.Date, ColumnType.Decimal, ColumnType.String], columns.Select(c => c.Type));
        Assert.Equal(csvColumns.Select(c => c.Name), columns.Select(c => c.Name));
        Assert.Equal(bytes, (await initech.DownloadAllAsync(grant.Name, format: format)).Bytes);
    }

    [Fact]
    public async Task A_parquet_table_is_delivered_under_a_view_as_csv()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        var people = Rows(TableFormat.Csv, Encoding.UTF8.GetBytes(People), out _);
        Column[] columns =
        [
            new() { Name = "id", Type = ColumnType.Int64 }, new() { Name = "name", Type = ColumnType.String },
            new() { Name = "city", Type = ColumnType.String }, new() { Name = "birth_date", Type = ColumnType.Date },
            new() { Name = "income", Type = ColumnType.Decimal }, new() { Name = "email", Type = ColumnType.String },
        ];
        var parquet = new MemoryStream();
        using (var writer = Server.Tables.TableFormats.Writer(TableFormat.Parquet, parquet, columns))
        {
            foreach (var row in people)
            {
                for (var i = 0; i < row.Length; i++)
                {
                    writer.Set(i, row[i]);
                }

                writer.EndRow();
            }

            writer.Finish();
        }

        var dataset = await CatalogFixture.CreateAsync(acme);
        await acme.UploadAsync(dataset.Name, new MemoryStream(parquet.ToArray()), new UploadOptions { MediaType = "application/vnd.apache.parquet" });
        await acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name });
        var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset, terms: new Terms { View = Requested() }));
        var (header, bytes, _) = await initech.DownloadAllAsync(grant.Name, format: TableFormat.Csv);
        Assert.Equal(TableFormat.Csv, header.Format);
        Assert.Equal("""
            id,city,birth_date,income,email
            1,Bergen,1980-01-01,52000.50,ann@example.no
            3,Bergen,1990-01-01,,cy@example.no
            5,Bergen,,70000.00,"ed, jr@example.no"

            """, Encoding.UTF8.GetString(bytes));
    }

    /// <summary>A delivered table's rows as text, read back with the gateway's own reader of its format.</summary>
    private static List<string[]> Rows(TableFormat format, byte[] bytes, out IReadOnlyList<Column> columns)
    {
        var names = Encoding.UTF8.GetString(bytes).Split('\n')[0].Split(',');
        using var reader = Server.Tables.TableFormats.Reader(format, new MemoryStream(bytes),
            format == TableFormat.Csv ? [.. names.Select(n => new Column { Name = n, Type = ColumnType.String })] : null);
        columns = reader.Columns;
        var rows = new List<string[]>();
        while (reader.Read())
        {
            rows.Add([.. Enumerable.Range(0, reader.Columns.Count).Select(i => reader[i].ToString())]);
        }

        return rows;
    }

    public static TheoryData<string, Func<View, View>, string> Widenings => new()
    {
        { "a column not requested", v => { v.Columns.Add("name"); return v; }, "'name' was not among" },
        { "all columns", v => { v.Columns.Clear(); return v; }, "view.columns must name columns" },
        { "another filter", v => { v.RowFilter = Compare("city", ComparisonOperator.Equal, "Oslo"); return v; }, "row_filter may only add conditions" },
        { "no filter", v => { v.RowFilter = null; return v; }, "row_filter may only add conditions" },
        { "a weaker mask", v => { v.Masks[0].Unit = DateUnit.Month; return v; }, "mask 'birth_date' at least as strongly as generalise to year" },
        { "no mask", v => { v.Masks.Clear(); return v; }, "mask 'birth_date' at least as strongly" },
    };

    [Theory]
    [MemberData(nameof(Widenings))]
    public async Task An_approval_cannot_widen_the_requested_view(string what, Func<View, View> widen, string message)
    {
        Assert.NotEmpty(what);
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        var request = await initech.RequestAsync(await PeopleAsync(acme), terms: new Terms { View = Requested() });
        var error = await Rpc.FailsWith(StatusCode.InvalidArgument, () => acme.ApproveAsync(request, new Terms { View = widen(Requested()) }));
        Assert.Contains(message, error.Status.Detail);
    }

    [Fact]
    public async Task Dropping_a_masked_column_or_redacting_it_is_narrower_and_an_approval_without_a_view_keeps_the_requested_one()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        var dataset = await PeopleAsync(acme);
        var dropped = Requested();
        dropped.Columns.Remove("birth_date");
        dropped.Masks.Clear();
        var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset, terms: new Terms { View = Requested() }), new Terms { View = dropped });
        Assert.Equal("id,city,income,email", Encoding.UTF8.GetString((await initech.DownloadAllAsync(grant.Name)).Bytes).Split('\n')[0]);

        var redacted = Requested();
        redacted.Masks[0] = new Mask { Column = "birth_date", Kind = MaskKind.Redact };
        await acme.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = grant.Name, Reason = "next" });
        grant = await acme.ApproveAsync(await initech.RequestAsync(dataset, terms: new Terms { View = Requested() }), new Terms { View = redacted });
        Assert.Contains("1,Bergen,,52000.50,ann@example.no", Encoding.UTF8.GetString((await initech.DownloadAllAsync(grant.Name)).Bytes));

        await acme.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = grant.Name, Reason = "next" });
        grant = await acme.ApproveAsync(await initech.RequestAsync(dataset, terms: new Terms { View = Requested() }), new Terms { MaxTransfers = 2 });
        Assert.Equal(Requested(), grant.Terms.View);
        Assert.Equal("""
            id,city,birth_date,income,email
            1,Bergen,1980-01-01,52000.50,ann@example.no
            3,Bergen,1990-01-01,,cy@example.no
            5,Bergen,,70000,"ed, jr@example.no"

            """, Encoding.UTF8.GetString((await initech.DownloadAllAsync(grant.Name)).Bytes));
    }

    public static TheoryData<string, View, string> Misfits => new()
    {
        { "unknown column", new View { Columns = { "id", "salary" } }, "requested_terms.view.columns[1]: the table has no column 'salary'" },
        { "column twice", new View { Columns = { "id", "id" } }, "names 'id' twice" },
        { "wrong literal", new View { RowFilter = Compare("income", ComparisonOperator.Less, "lots") }, "'lots' is not a value of 'income', which is DECIMAL" },
        { "prefix on a number", new View { RowFilter = Compare("id", ComparisonOperator.Prefix, "1") }, "prefix compares strings; 'id' is INT64" },
        { "in without values", new View { RowFilter = Compare("city", ComparisonOperator.In) }, "in takes 1 to 1000 values, not 0" },
        { "is null with a value", new View { RowFilter = Compare("city", ComparisonOperator.IsNull, "x") }, "is_null takes no values, not 1" },
        { "empty all", new View { RowFilter = new Predicate { All = new PredicateList() } }, "row_filter.all needs at least one predicate" },
        { "empty predicate", new View { RowFilter = new Predicate() }, "row_filter is empty" },
        { "truncate a date", new View { Masks = { new Mask { Column = "birth_date", Kind = MaskKind.Truncate, Length = 4 } } }, "truncate does not suit 'birth_date', which is DATE" },
        { "bucket without width", new View { Masks = { new Mask { Column = "income", Kind = MaskKind.Bucket } } }, "width '' is not a positive number" },
        { "bucket an id by a half", new View { Masks = { new Mask { Column = "id", Kind = MaskKind.Bucket, Width = "0.5" } } }, "not a positive whole number" },
        { "two masks", new View { Masks = { Year("birth_date"), new Mask { Column = "birth_date", Kind = MaskKind.Redact } } }, "two masks for 'birth_date'" },
        { "too many values in all", new View { RowFilter = new Predicate { Any = new PredicateList { Predicates =
            { Enumerable.Range(0, 5).Select(_ => Compare("id", ComparisonOperator.In, [.. Enumerable.Range(0, 1000).Select(i => i.ToString())])) } } } },
            "compares with more than 4096 values in all" },
    };

    [Theory]
    [MemberData(nameof(Misfits))]
    public async Task A_view_that_does_not_fit_the_table_is_refused_naming_what_does_not(string what, View view, string message)
    {
        Assert.NotEmpty(what);
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        var dataset = await PeopleAsync(acme);
        var error = await Rpc.FailsWith(StatusCode.InvalidArgument, () => initech.RequestAsync(dataset, terms: new Terms { View = view }));
        Assert.Contains(message, error.Status.Detail);
        Assert.Empty((await initech.Access.ListAccessRequestsAsync(new ListAccessRequestsRequest { Dataset = dataset.Name })).AccessRequests);
    }

    [Fact]
    public async Task A_view_or_a_format_on_bytes_that_are_no_table_is_a_failed_precondition()
    {
        using var acme = Gateway.ClientFor(Participant.Acme);
        using var initech = Gateway.ClientFor(Participant.Initech);
        var dataset = await CatalogFixture.CreateAsync(acme);
        await acme.UploadAsync(dataset.Name, new MemoryStream([1, 2, 3]));
        await acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name });
        var error = await Rpc.FailsWith(StatusCode.FailedPrecondition, () => initech.RequestAsync(dataset, terms: new Terms { View = Requested() }));
        Assert.Contains("is not a table", error.Status.Detail);

        var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset));
        error = await Rpc.FailsWith(StatusCode.FailedPrecondition, () => initech.DownloadAllAsync(grant.Name, format: TableFormat.Csv));
        Assert.Contains("is not a table", error.Status.Detail);
    }
}
