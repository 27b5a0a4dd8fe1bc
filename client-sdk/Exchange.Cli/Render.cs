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

    public static void AuditTable(TextWriter output, IReadOnlyCollection<AuditEvent> events)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in new[] { "INDEX", "TIME", "ACTOR", "ACTION", "RESOURCE", "OUTCOME", "DETAILS" })
        {
            table.AddColumn(column);
        }

        foreach (var e in events)
        {
            table.AddRow(
                Cell(e.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)), Cell(e.Time?.ToDateTimeOffset().ToString("u")),
                Cell(e.Actor), Cell(e.Action), Cell(e.Resource), Cell(EnumName(e.Outcome)), Cell(DetailsText(e)));
        }

        Write(output, table);
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

    public static void GrantDetail(TextWriter output, Grant g)
    {
        var grid = new Grid().AddColumn().AddColumn();
        void Row(string key, string value, bool multiline = false) => grid.AddRow(new Text(key), Cell(value, multiline));
        Row("name", g.Name);
        Row("dataset", g.Dataset);
        Row("consumer", g.Consumer);
        Row("provider", g.Provider);
        Row("terms", TermsText(g.Terms));
        Row("transfers used", g.TransfersUsed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Row("state", EnumName(g.State));
        Row("access request", g.AccessRequest);
        Row("created", g.CreateTime?.ToDateTimeOffset().ToString("u") ?? "");
        if (g.RevokeTime is not null)
        {
            Row("revoked", $"{g.RevokeTime.ToDateTimeOffset():u}: {g.RevokeReason}");
        }

        Write(output, grid);
    }

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
        (terms.ExpireTime is null ? "" : $"; expires {terms.ExpireTime.ToDateTimeOffset():u}");

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

    /// <summary>Parses <c>listed</c>, <c>LISTED</c> or <c>DATASET_STATE_LISTED</c>.</summary>
    public static bool TryParseEnum<T>(string text, out T value) where T : struct, Enum
    {
        var descriptor = EnumDescriptor<T>();
        var prefix = descriptor.Values[0].Name.Replace("UNSPECIFIED", "", StringComparison.Ordinal);
        var wanted = text.Trim().ToUpperInvariant();
        var match = descriptor.Values.FirstOrDefault(v => v.Number != 0 && (v.Name == wanted || v.Name == prefix + wanted));
        value = match is null ? default : (T)Enum.ToObject(typeof(T), match.Number);
        return match is not null;
    }

    private static EnumDescriptor EnumDescriptor<T>() =>
        CatalogReflection.Descriptor.EnumTypes.Concat(AccessReflection.Descriptor.EnumTypes)
            .Concat(TransferReflection.Descriptor.EnumTypes).Concat(AuditReflection.Descriptor.EnumTypes)
            .Concat(ParticipantReflection.Descriptor.EnumTypes)
            .Single(e => e.ClrType == typeof(T));

    private static void Write(TextWriter output, Spectre.Console.Rendering.IRenderable renderable)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(output),
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = Console.IsOutputRedirected ? 160 : Math.Max(Console.WindowWidth, 80);
        console.Write(renderable);
    }
}
