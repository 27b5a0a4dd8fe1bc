using System.Text;
using Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Spectre.Console;

namespace Exchange.Cli;

/// <summary>
/// Prints resources as readable tables or as protobuf JSON. Every string the gateway sent goes
/// through <see cref="Printable"/> first and into a <see cref="Text"/>, never into markup, so what
/// a gateway (or anyone who got a string into its records) sends cannot drive the terminal.
/// </summary>
internal static class Render
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithIndentation());

    public static void Json(TextWriter output, IMessage message) => output.WriteLine(JsonText(message, Formatter));

    public static void JsonArray(TextWriter output, IEnumerable<IMessage> messages) =>
        output.WriteLine("[" + string.Join(",\n", messages.Select(m => JsonText(m, Formatter))) + "]");

    /// <summary>
    /// <paramref name="message"/> as JSON with every character that <see cref="IsUnsafe"/> names
    /// written as a \uXXXX escape. The formatter escapes C0 controls inside strings (JSON requires
    /// it, so a raw one is layout) and most others, but not all: the bidi isolates U+2066–U+2069 pass
    /// raw. Outside strings JSON is ASCII, so only string contents change, and they parse back to
    /// exactly what the gateway sent.
    /// </summary>
    public static string JsonText(IMessage message, JsonFormatter? formatter = null)
    {
        var json = (formatter ?? JsonFormatter.Default).Format(message);
        if (!json.Any(RawInJson))
        {
            return json;
        }

        var builder = new StringBuilder(json.Length + 16);
        foreach (var c in json)
        {
            builder.Append(RawInJson(c) ? $"\\u{(int)c:x4}" : c);
        }

        return builder.ToString();

        static bool RawInJson(char c) => c >= '\u007f' && IsUnsafe(c);
    }

    /// <summary>
    /// A string from the gateway made safe to print on a terminal: C0 controls (ESC, CR, LF, TAB…),
    /// DEL, C1 controls, the Unicode bidi controls (overrides, embeddings, isolates, marks) and the
    /// line and paragraph separators are shown as escapes (<c>\x1b</c>, <c>\r</c>, <c>\u202e</c>),
    /// so nothing sent can recolour, retitle or clear the screen, overwrite what was printed, start
    /// a line that looks like the CLI's own, or reorder text on screen. <paramref name="multiline"/>
    /// keeps line feeds, for text meant to span lines (a description). Backslashes are not doubled:
    /// the output is for reading, and --json carries the exact strings.
    /// </summary>
    public static string Printable(string? text, bool multiline = false)
    {
        if (string.IsNullOrEmpty(text) || !text.Any(c => IsUnsafe(c) && !(multiline && c == '\n')))
        {
            return text ?? "";
        }

        var builder = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (!IsUnsafe(c) || (multiline && c == '\n'))
            {
                builder.Append(c);
                continue;
            }

            builder.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                < '\u0100' => $"\\x{(int)c:x2}",
                _ => $"\\u{(int)c:x4}",
            });
        }

        return builder.ToString();
    }

    /// <summary>True for the characters <see cref="Printable"/> escapes.</summary>
    public static bool IsUnsafe(char c) =>
        c < ' ' || c is (>= '\u007f' and <= '\u009f') or '\u061c' or '\u200e' or '\u200f' or (>= '\u202a' and <= '\u202e')
            or (>= '\u2066' and <= '\u2069') or '\u2028' or '\u2029';

    /// <summary>A table cell or grid value: escaped, and a <see cref="Text"/>, which Spectre never parses as markup.</summary>
    private static Text Cell(string? text, bool multiline = false) => new(Printable(text, multiline));

    public static void DatasetTable(TextWriter output, IReadOnlyCollection<Dataset> datasets)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "NAME", "TITLE", "PROVIDER", "CLASSIFICATION", "STATE", "TAGS", "UPDATED" })
        {
            table.AddColumn(column);
        }

        foreach (var d in datasets)
        {
            table.AddRow(
                Cell(d.Name), Cell(d.Title), Cell(d.Provider), Cell(EnumName(d.Classification)), Cell(EnumName(d.State)),
                Cell(string.Join(", ", d.Tags)), Cell(d.UpdateTime?.ToDateTimeOffset().ToString("u")));
        }

        Write(output, table);
        output.WriteLine(datasets.Count == 1 ? "1 dataset" : $"{datasets.Count} datasets");
    }

    public static void DatasetDetail(TextWriter output, Dataset d)
    {
        var grid = new Grid().AddColumn().AddColumn();
        void Row(string key, string value, bool multiline = false) => grid.AddRow(new Text(key), Cell(value, multiline));
        Row("name", d.Name);
        Row("title", d.Title);
        Row("provider", d.Provider);
        Row("classification", EnumName(d.Classification));
        Row("state", EnumName(d.State));
        if (d.State == DatasetState.Delisted)
        {
            Row("delisted because", d.DelistReason.Length == 0 ? "(no reason given)" : d.DelistReason);
        }

        if (d.LineageStatus != LineageStatus.Unspecified)
        {
            Row("lineage", d.LineageStatus == LineageStatus.Flagged ? $"FLAGGED: {d.LineageReason}" : "derived; every source in good standing");
        }

        Row("tags", string.Join(", ", d.Tags));
        Row("latest revision", d.LatestRevision.Length == 0 ? "(none)" : d.LatestRevision);
        Row("created", d.CreateTime?.ToDateTimeOffset().ToString("u") ?? "");
        Row("updated", d.UpdateTime?.ToDateTimeOffset().ToString("u") ?? "");
        if (d.AutoApprovalTerms is { } terms)
        {
            Row("auto-approval", TermsText(terms));
        }

        Row("description", d.Description, multiline: true);
        Write(output, grid);
    }

    /// <summary>
    /// The audit events as a table <paramref name="width"/> columns wide at most, one line per event:
    /// the longest of the details, resources, actors and actions are cut with an ellipsis first. A
    /// null width shows everything (<c>--wide</c>).
    /// </summary>
    public static void AuditTable(TextWriter output, IReadOnlyCollection<AuditEvent> events, int? width = null)
    {
        string[] headers = ["INDEX", "TIME", "ACTOR", "ACTION", "RESOURCE", "OUTCOME", "DETAILS"];
        var rows = events.Select(e => new[]
        {
            e.Index.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Time?.ToDateTimeOffset().ToString("u") ?? "",
            Printable(e.Actor), Printable(e.Action), Printable(e.Resource), EnumName(e.Outcome), Printable(DetailsText(e)),
        }).ToList();
        if (width is { } fit)
        {
            // Details give way first, then the resource, the actor and the action, each down to a useful width.
            rows = Fit(headers, rows, fit, flexible: [(6, 12), (4, 24), (2, 10), (3, 16)]);
        }

        var table = new Table().Border(TableBorder.Rounded);
        foreach (var header in headers)
        {
            table.AddColumn(header);
        }

        foreach (var row in rows)
        {
            table.AddRow(row.Select(c => Cell(c)).ToArray());
        }

        Write(output, table, width ?? 100_000);
        output.WriteLine(events.Count == 1 ? "1 event" : $"{events.Count} events");
    }

    public static void AccessRequestTable(TextWriter output, IReadOnlyCollection<AccessRequest> requests)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "NAME", "DATASET", "CONSUMER", "PURPOSE", "STATE", "GRANT", "CREATED" })
        {
            table.AddColumn(column);
        }

        foreach (var r in requests)
        {
            table.AddRow(Cell(r.Name), Cell(r.Dataset), Cell(r.Consumer), Cell(r.Purpose), Cell(EnumName(r.State)), Cell(r.Grant),
                Cell(r.CreateTime?.ToDateTimeOffset().ToString("u")));
        }

        Write(output, table);
        output.WriteLine(requests.Count == 1 ? "1 request" : $"{requests.Count} requests");
    }

    public static void AccessRequestDetail(TextWriter output, AccessRequest r)
    {
        var grid = new Grid().AddColumn().AddColumn();
        void Row(string key, string value, bool multiline = false) => grid.AddRow(new Text(key), Cell(value, multiline));
        Row("name", r.Name);
        Row("dataset", r.Dataset);
        Row("consumer", r.Consumer);
        Row("provider", r.Provider);
        Row("purpose", r.Purpose);
        Row("requested terms", TermsText(r.RequestedTerms));
        Row("state", EnumName(r.State));
        Row("grant", r.Grant.Length == 0 ? "(none)" : r.Grant);
        if (r.DecisionReason.Length > 0)
        {
            Row("reason", r.DecisionReason);
        }

        Row("created", r.CreateTime?.ToDateTimeOffset().ToString("u") ?? "");
        Row("decided", r.DecideTime?.ToDateTimeOffset().ToString("u") ?? "");
        Write(output, grid);
    }

    public static void GrantTable(TextWriter output, IReadOnlyCollection<Grant> grants)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "NAME", "DATASET", "CONSUMER", "PROVIDER", "STATE", "TERMS", "USED" })
        {
            table.AddColumn(column);
        }

        foreach (var g in grants)
        {
            table.AddRow(Cell(g.Name), Cell(g.Dataset), Cell(g.Consumer), Cell(g.Provider), Cell(EnumName(g.State)), Cell(TermsText(g.Terms)),
                Cell(g.TransfersUsed.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        Write(output, table);
        output.WriteLine(grants.Count == 1 ? "1 grant" : $"{grants.Count} grants");
    }

    public static void RightTable(TextWriter output, IReadOnlyCollection<Right> rights)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "NAME", "KIND", "HOLDER", "STATE", "SCOPE", "VALID" })
        {
            table.AddColumn(column);
        }

        foreach (var r in rights)
        {
            table.AddRow(Cell(r.Name), Cell(EnumName(r.Kind)), Cell(r.Holder), Cell(EnumName(r.State)), Cell(ScopeText(r.Scope)), Cell(ValidityText(r)));
        }

        Write(output, table);
        output.WriteLine(rights.Count == 1 ? "1 right" : $"{rights.Count} rights");
    }

    /// <summary>One right, field by field, with its basis, review and objections.</summary>
    public static void RightDetail(TextWriter output, Right right)
    {
        var lines = new List<(string, string)>
        {
            ("name", right.Name),
            ("kind", EnumName(right.Kind)),
            ("holder", right.Holder),
            ("state", EnumName(right.State)),
            ("scope", ScopeText(right.Scope)),
            ("valid", ValidityText(right)),
            ("basis", right.Basis is null ? "" : EnumName(right.Basis.Kind) + (right.Basis.LicensedFrom.Length > 0 ? $" from {right.Basis.LicensedFrom}" : "")),
        };
        foreach (var evidence in right.Basis?.Evidence ?? [])
        {
            lines.Add(("evidence", $"{Convert.ToHexStringLower(evidence.Sha256.Span)} {evidence.MediaType} {evidence.Description}".TrimEnd()));
        }

        if (right.NoticeEndTime is not null)
        {
            lines.Add(("notice until", $"{right.NoticeEndTime.ToDateTimeOffset():u}"));
        }

        if (right.PendingChange is { } change)
        {
            lines.Add(("change", $"{ScopeText(change.Scope)}; {ValidityText(change.StartTime, change.EndTime)} (under review)"));
        }

        if (right.PendingHolder.Length > 0)
        {
            lines.Add(("offered to", right.PendingHolder));
        }

        foreach (var objection in right.Objections)
        {
            lines.Add(("objection", $"{objection.Name}: {EnumName(objection.State)}, {objection.Objector}: {objection.Reason}" +
                (objection.Resolution.Length > 0 ? $" — {objection.Resolution}" : "")));
        }

        if (right.DecisionReason.Length > 0)
        {
            lines.Add(("reason", right.DecisionReason));
        }

        lines.Add(("registrant", right.Registrant));
        lines.Add(("version", right.Version.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        foreach (var (key, value) in lines)
        {
            output.WriteLine($"{key,-16} {Printable(value)}");
        }
    }

    private static string ScopeText(RightScope? scope) =>
        $"purposes: {(scope is null || scope.Purposes.Count == 0 ? "any" : string.Join(", ", scope.Purposes))}; " +
        $"territories: {(scope is null || scope.Territories.Count == 0 ? "anywhere" : string.Join(", ", scope.Territories))}";

    private static string ValidityText(Right right) => ValidityText(right.StartTime, right.EndTime);

    private static string ValidityText(Google.Protobuf.WellKnownTypes.Timestamp? start, Google.Protobuf.WellKnownTypes.Timestamp? end) =>
        $"{(start is null ? "now" : $"{start.ToDateTimeOffset():u}")} to {(end is null ? "no end" : $"{end.ToDateTimeOffset():u}")}";

    public static void TrustedLogTable(TextWriter output, IReadOnlyCollection<Exchange.Client.Audit.TrustedLog> logs)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "ORIGIN", "LOG ID", "SIZE", "TRUSTED", "VERIFIER KEY" })
        {
            table.AddColumn(column);
        }

        foreach (var l in logs)
        {
            table.AddRow(Cell(l.Origin), Cell(l.LogId.Length > 0 ? l.LogId : "(none)"), Cell(l.Size.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                Cell(l.TrustedTime.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture)), Cell(l.VerifierKey));
        }

        Write(output, table);
    }

    public static void GrantDetail(TextWriter output, Grant g, IReadOnlyCollection<Transfer>? transfers = null)
    {
        var grid = new Grid().AddColumn().AddColumn();
        void Row(string key, string value, bool multiline = false) => grid.AddRow(new Text(key), Cell(value, multiline));
        Row("name", g.Name);
        Row("dataset", g.Dataset);
        Row("consumer", g.Consumer);
        Row("provider", g.Provider);
        Row("terms", TermsText(g.Terms));
        Row("transfers used", g.TransfersUsed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (g.ComputeBudget is { } budget)
        {
            Row("privacy budget", $"{Epsilon(budget.RemainingEpsilonMillis)} of {Epsilon(budget.TotalEpsilonMillis)} epsilon left after {budget.Queries} queries");
        }

        Row("state", EnumName(g.State));
        Row("access request", g.AccessRequest);
        Row("created", g.CreateTime?.ToDateTimeOffset().ToString("u") ?? "");
        if (g.RevokeTime is not null)
        {
            Row("revoked", $"{g.RevokeTime.ToDateTimeOffset():u}: {g.RevokeReason}");
        }

        if (g.RenewalCancelTime is not null)
        {
            Row("renewal cancelled", $"{g.RenewalCancelTime.ToDateTimeOffset():u}; ends {g.Terms?.ExpireTime?.ToDateTimeOffset():u}");
        }

        Write(output, grid);
        if (transfers is not null)
        {
            output.WriteLine();
            TransferTable(output, transfers);
        }
    }

    public static void TransferTable(TextWriter output, IReadOnlyCollection<Transfer> transfers)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "NAME", "GRANT", "REV", "CONSUMER", "PURPOSE", "STATE", "BYTES", "REASON" })
        {
            table.AddColumn(column);
        }

        foreach (var t in transfers)
        {
            // The revision's number: the dataset is the grant's (transfers get shows the whole name).
            var revision = t.Revision[(t.Revision.LastIndexOf('/') + 1)..];
            table.AddRow(Cell(t.Name), Cell(t.Grant), Cell(revision), Cell(t.Consumer), Cell(t.Purpose), Cell(EnumName(t.State)),
                Cell(BytesText(t)), Cell(t.FailureReason));
        }

        Write(output, table);
        output.WriteLine(transfers.Count == 1 ? "1 transfer" : $"{transfers.Count} transfers");
    }

    public static void TransferDetail(TextWriter output, Transfer t)
    {
        var grid = new Grid().AddColumn().AddColumn();
        void Row(string key, string value) => grid.AddRow(new Text(key), Cell(value));
        Row("name", t.Name);
        Row("grant", t.Grant);
        Row("dataset", t.Dataset);
        Row("revision", t.Revision);
        Row("consumer", t.Consumer);
        Row("provider", t.Provider);
        Row("purpose", t.Purpose);
        Row("state", EnumName(t.State));
        Row("bytes", BytesText(t));
        Row("started", t.CreateTime?.ToDateTimeOffset().ToString("u") ?? "");
        Row("ended", t.EndTime?.ToDateTimeOffset().ToString("u") ?? "");
        if (t.FailureReason.Length > 0)
        {
            Row("reason", t.FailureReason);
        }

        Write(output, grid);
    }

    private static string BytesText(Transfer t) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{t.BytesSent:N0} of {t.SizeBytes:N0}");

    public static void RevisionTable(TextWriter output, IReadOnlyCollection<Revision> revisions)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "NAME", "SIZE", "MEDIA TYPE", "SHA-256", "CREATED" })
        {
            table.AddColumn(column);
        }

        foreach (var r in revisions)
        {
            table.AddRow(Cell(r.Name), Cell(r.SizeBytes.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)), Cell(r.MediaType),
                Cell(Convert.ToHexStringLower(r.Sha256.Span)), Cell(r.CreateTime?.ToDateTimeOffset().ToString("u")));
        }

        Write(output, table);
        output.WriteLine(revisions.Count == 1 ? "1 revision" : $"{revisions.Count} revisions");
    }

    /// <summary>A tabular revision's schema with what its quality report measured of each column, and the whole table's figures.</summary>
    public static void TableProfile(TextWriter output, Revision revision)
    {
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        var q = revision.Quality;
        output.WriteLine(string.Create(culture,
            $"{revision.Name}: {EnumName(revision.Format)} table, {q.RowCount:N0} rows, {Percent(q.Completeness)} of cells filled, "
            + $"{q.DuplicateRowEstimate:N0} duplicate rows, {q.RowsBreakingSchema:N0} rows breaking the schema"));
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "COLUMN", "TYPE", "NULLABLE", "COMPLETE", "VALID", "DISTINCT", "RANGE", "NEWEST AGE", "TOP VALUES" })
        {
            table.AddColumn(column);
        }

        foreach (var (column, measured) in revision.Schema.Columns.Zip(q.Columns))
        {
            var range = measured.Min.Length + measured.Max.Length == 0 ? "" : $"{measured.Min} .. {measured.Max}";
            var age = measured.NewestAge is { } newest ? Durations.Format(newest.ToTimeSpan()) : "";
            var top = string.Join(", ", measured.TopValues.Select(v => string.Create(culture, $"{v.Value} ({v.Count:N0})")));
            table.AddRow(Cell(column.Name), Cell(EnumName(column.Type) + (column.Describable ? " (describable)" : "")), Cell(column.Nullable ? "yes" : "no"),
                Cell(Percent(measured.Completeness)), Cell(Percent(measured.Validity)),
                Cell(measured.DistinctEstimate.ToString("N0", culture)), Cell(range), Cell(age), Cell(top));
        }

        Write(output, table);
    }

    private static string Percent(double share) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{share * 100:0.0}%");

    public static void ParticipantTable(TextWriter output, IReadOnlyCollection<Participant> participants)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "NAME", "STATE", "SUSPENDED", "REASON", "UPDATED" })
        {
            table.AddColumn(column);
        }

        foreach (var p in participants)
        {
            table.AddRow(Cell(p.Name), Cell(EnumName(p.State)), Cell(p.SuspendTime?.ToDateTimeOffset().ToString("u") ?? ""), Cell(p.SuspendReason),
                Cell(p.UpdateTime?.ToDateTimeOffset().ToString("u") ?? ""));
        }

        Write(output, table);
        output.WriteLine(participants.Count == 1 ? "1 participant" : $"{participants.Count} participants");
    }

    public static void ParticipantDetail(TextWriter output, Participant p)
    {
        var grid = new Grid().AddColumn().AddColumn();
        void Row(string key, string value) => grid.AddRow(new Text(key), Cell(value));
        Row("name", p.Name);
        Row("state", EnumName(p.State));
        if (p.SuspendTime is not null)
        {
            Row("suspended", $"{p.SuspendTime.ToDateTimeOffset():u}: {p.SuspendReason}");
        }

        Row("updated", p.UpdateTime?.ToDateTimeOffset().ToString("u") ?? "never changed by an operator");
        Write(output, grid);
    }

    public static string TermsText(Terms? terms) => terms is null ? "" :
        $"purposes: {string.Join(", ", terms.Purposes)}; max transfers: " +
        (terms.MaxTransfers == 0 ? "unlimited" : terms.MaxTransfers.ToString(System.Globalization.CultureInfo.InvariantCulture)) +
        (terms.ExpireTime is null ? "" : $"; expires {terms.ExpireTime.ToDateTimeOffset():u}") +
        (terms.View is null ? "" : $"; view: {Printable(ViewSyntax.Describe(terms.View))}") +
        (terms.Kind == GrantKind.Compute ? "; queries only" : "") +
        (terms.Analysis is null ? "" : $"; queries: {Printable(AnalysisText(terms.Analysis))}") +
        (terms.Derivation is { Allowed: true } d ? $"; derivation allowed{(d.DescendantsSurviveRevocation ? ", descendants survive revocation" : "")}" : "") +
        (terms.Offer is { } o ? $"; offer {o.Name}: {OfferPrice(o)}" : "");

    /// <summary>An offer's price in a few words: "12500 minor units of NOK per GiB", "free".</summary>
    public static string OfferPrice(Offer offer) => offer.Kind switch
    {
        OfferKind.Free => "free",
        OfferKind.OneOff => $"{Minor(offer.Price)} once",
        OfferKind.PerTransfer => $"{Minor(offer.Price)} per transfer",
        OfferKind.PerGib => $"{Minor(offer.Price)} per GiB",
        OfferKind.PerQuery => $"{Minor(offer.Price)} per query",
        OfferKind.Subscription => $"{Minor(offer.Price)} per {offer.PeriodMonths} month(s){(offer.AutoRenew ? ", renewing" : "")}",
        _ => Minor(offer.Price),
    } + (offer.FreeUnits > 0 ? $", first {offer.FreeUnits} free" : "") + (offer.CapMinorPerPeriod > 0 ? $", capped at {offer.CapMinorPerPeriod} a period" : "");

    /// <summary>Money as the contract carries it: integer minor units and the currency.</summary>
    public static string Minor(Money? money) =>
        money is null ? "" : $"{money.AmountMinor.ToString(System.Globalization.CultureInfo.InvariantCulture)} minor units of {money.Currency}";

    /// <summary>An analysis rule in a line: dimensions, aggregates, identity and minimum, privacy.</summary>
    public static string AnalysisText(AnalysisRule rule) =>
        $"dimensions {(rule.Dimensions.Count == 0 ? "none" : string.Join(",", rule.Dimensions))}, aggregates " +
        (rule.Aggregates.Count == 0 ? "COUNT(*) only" : string.Join(" ", rule.Aggregates.Select(a =>
            $"{a.Column}={string.Join(",", a.Functions.Select(f => EnumName(f).Replace('_', ' ')))}"))) +
        $", at least {(rule.MinIdentities == 0 ? 10 : rule.MinIdentities)} " + (rule.IdentityColumn.Length == 0 ? "rows" : $"distinct {rule.IdentityColumn}") +
        (rule.Privacy is not { } p ? "" : $", epsilon {Epsilon(p.QueryEpsilonMillis)} a query of {Epsilon(p.BudgetEpsilonMillis)}, " +
            $"delta 1e-{(p.DeltaExponent == 0 ? 6 : p.DeltaExponent)}");

    /// <summary>Thousandths of epsilon as a number: 250 → 0.25.</summary>
    public static string Epsilon(long millis) => (millis / 1000m).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Budgets recomputed from the log, each with what the gateway says of it.</summary>
    public static void BudgetTable(TextWriter output, IReadOnlyCollection<(Exchange.Client.Compute.BudgetAccount Account, string Says)> rows)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "GRANT", "BUDGET", "ADDED", "SPENT", "REMAINING", "QUERIES", "REFUSED", "GATEWAY SAYS" })
        {
            table.AddColumn(column);
        }

        foreach (var (a, says) in rows)
        {
            table.AddRow(Cell(a.Grant), Cell(Epsilon(a.InitialMillis)), Cell(Epsilon(a.AddedMillis)), Cell(Epsilon(a.SpentMillis)), Cell(Epsilon(a.RemainingMillis)),
                Cell($"{a.Queries}"), Cell($"{a.Refused}"), Cell(says));
        }

        Write(output, table);
    }

    /// <summary>A query's answer: its rows as a table, then what was suppressed, spent and logged.</summary>
    public static void QueryAnswer(TextWriter output, RunQueryResponse answer, string receipt)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in answer.Result.Columns)
        {
            table.AddColumn(new TableColumn(new Text(Printable(column))));
        }

        foreach (var row in answer.Result.Rows)
        {
            table.AddRow([.. row.Values.Select(v => Cell(v))]);
        }

        Write(output, table);
        output.WriteLine($"{answer.Result.Rows.Count} {(answer.Result.Rows.Count == 1 ? "row" : "rows")}; " + (answer.Result.HasSuppressedRows
            ? $"{answer.Result.SuppressedRows} suppressed under the rule's minimum"
            : "groups under the privacy threshold left out (how many is not told under differential privacy)"));
        if (answer.EpsilonSpentMillis > 0)
        {
            output.WriteLine($"epsilon spent {Epsilon(answer.EpsilonSpentMillis)}, remaining {Epsilon(answer.EpsilonRemainingMillis)}");
        }

        output.WriteLine($"query: {Printable(answer.Query)} on {answer.Revision}");
        output.WriteLine($"receipt: {receipt}");
    }

    /// <summary>An enum option's value (e.g. "approved"), or the zero value when the option was not given.</summary>
    public static T ParseEnumOption<T>(string? text, string option) where T : struct, Enum =>
        string.IsNullOrEmpty(text) ? default
        : TryParseEnum<T>(text, out var value) ? value
        : throw new FormatException($"{option} '{text}' is not one of the known values.");

    /// <summary>One event on one line, for tailing.</summary>
    public static string AuditLine(AuditEvent e) =>
        $"{e.Index,8}  {e.Time?.ToDateTimeOffset():u}  {Printable(e.Actor),-12} {Printable(e.Action),-18} {Printable(e.Resource),-32} " +
        $"{EnumName(e.Outcome),-8} {Printable(DetailsText(e))}";

    private static string DetailsText(AuditEvent e) => string.Join("; ", e.Details.Select(d => $"{d.Key}={d.Value}"));

    /// <summary>The enum value's proto name without its type prefix, e.g. LISTED.</summary>
    public static string EnumName<T>(T value) where T : struct, Enum
    {
        var descriptor = EnumDescriptor<T>();
        var name = descriptor.FindValueByNumber(Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture))?.Name
            ?? value.ToString();
        var prefix = descriptor.Values[0].Name.Replace("UNSPECIFIED", "", StringComparison.Ordinal);
        return name.StartsWith(prefix, StringComparison.Ordinal) ? name[prefix.Length..] : name;
    }

    /// <summary>Parses <c>listed</c>, <c>LISTED</c> or <c>DATASET_STATE_LISTED</c> (and <c>processing-use</c> for <c>PROCESSING_USE</c>).</summary>
    public static bool TryParseEnum<T>(string text, out T value) where T : struct, Enum
    {
        var descriptor = EnumDescriptor<T>();
        var prefix = descriptor.Values[0].Name.Replace("UNSPECIFIED", "", StringComparison.Ordinal);
        var wanted = text.Trim().ToUpperInvariant().Replace('-', '_');
        var match = descriptor.Values.FirstOrDefault(v => v.Number != 0 && (v.Name == wanted || v.Name == prefix + wanted));
        value = match is null ? default : (T)Enum.ToObject(typeof(T), match.Number);
        return match is not null;
    }

    private static EnumDescriptor EnumDescriptor<T>() =>
        CatalogReflection.Descriptor.EnumTypes.Concat(AccessReflection.Descriptor.EnumTypes)
            .Concat(TransferReflection.Descriptor.EnumTypes).Concat(AuditReflection.Descriptor.EnumTypes)
            .Concat(ParticipantReflection.Descriptor.EnumTypes).Concat(TabularReflection.Descriptor.EnumTypes)
            .Concat(AnalysisReflection.Descriptor.EnumTypes).Concat(RightsReflection.Descriptor.EnumTypes)
            .Concat(LineageReflection.Descriptor.EnumTypes).Concat(PricingReflection.Descriptor.EnumTypes).Concat(BillingReflection.Descriptor.EnumTypes)
            .Single(e => e.ClrType == typeof(T));

    /// <summary>
    /// <paramref name="rows"/> with cells cut (ending in …) so that a rounded table of them is at most
    /// <paramref name="width"/> columns wide: the <paramref name="flexible"/> columns give way in
    /// their order, each down to its floor; if that is not enough, the widest of them, down to its
    /// header's width.
    /// </summary>
    private static List<string[]> Fit(string[] headers, List<string[]> rows, int width, (int Column, int Floor)[] flexible)
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var excess = widths.Sum() + 1 + (3 * headers.Length) - width;
        foreach (var (column, floor) in flexible)
        {
            var cut = Math.Clamp(widths[column] - Math.Max(floor, headers[column].Length), 0, Math.Max(excess, 0));
            widths[column] -= cut;
            excess -= cut;
        }

        while (excess > 0)
        {
            var widest = flexible.Select(f => f.Column).Where(i => widths[i] > headers[i].Length).DefaultIfEmpty(-1).MaxBy(i => i < 0 ? 0 : widths[i]);
            if (widest < 0)
            {
                break;
            }

            widths[widest]--;
            excess--;
        }

        return [.. rows.Select(r => r.Select((cell, i) => cell.Length <= widths[i] ? cell : cell[..Math.Max(widths[i] - 1, 0)] + "…").ToArray())];
    }

    /// <summary>The terminal's width; when the output is not a terminal, COLUMNS if set, else 160.</summary>
    public static int TerminalWidth()
    {
        if (!Console.IsOutputRedirected)
        {
            return Math.Max(Console.WindowWidth, 40);
        }

        return int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out var columns) && columns >= 40 ? columns : 160;
    }

    public static void Write(TextWriter output, Spectre.Console.Rendering.IRenderable renderable, int? width = null)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(output),
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = width ?? (Console.IsOutputRedirected ? 160 : Math.Max(Console.WindowWidth, 80));
        console.Write(renderable);
    }
}
