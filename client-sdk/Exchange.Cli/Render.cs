using Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Spectre.Console;

namespace Exchange.Cli;

/// <summary>Prints resources as readable tables or as protobuf JSON.</summary>
internal static class Render
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithIndentation());

    public static void Json(TextWriter output, IMessage message) => output.WriteLine(Formatter.Format(message));

    public static void JsonArray(TextWriter output, IEnumerable<IMessage> messages) =>
        output.WriteLine("[" + string.Join(",\n", messages.Select(m => Formatter.Format(m))) + "]");

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
                Markup.Escape(d.Name), Markup.Escape(d.Title), Markup.Escape(d.Provider),
                EnumName(d.Classification), EnumName(d.State), Markup.Escape(string.Join(", ", d.Tags)),
                d.UpdateTime?.ToDateTimeOffset().ToString("u") ?? "");
        }

        Write(output, table);
        output.WriteLine(datasets.Count == 1 ? "1 dataset" : $"{datasets.Count} datasets");
    }

    public static void DatasetDetail(TextWriter output, Dataset d)
    {
        var grid = new Grid().AddColumn().AddColumn();
        void Row(string key, string value) => grid.AddRow(new Text(key), new Text(value));
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

        Row("description", d.Description);
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
                e.Index.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Time.ToDateTimeOffset().ToString("u"),
                Markup.Escape(e.Actor), Markup.Escape(e.Action), Markup.Escape(e.Resource), EnumName(e.Outcome),
                Markup.Escape(string.Join("; ", e.Details.Select(d => $"{d.Key}={d.Value}"))));
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
            table.AddRow(Markup.Escape(r.Name), Markup.Escape(r.Dataset), Markup.Escape(r.Consumer), Markup.Escape(r.Purpose),
                EnumName(r.State), Markup.Escape(r.Grant), r.CreateTime?.ToDateTimeOffset().ToString("u") ?? "");
        }

        Write(output, table);
        output.WriteLine(requests.Count == 1 ? "1 request" : $"{requests.Count} requests");
    }

    public static void AccessRequestDetail(TextWriter output, AccessRequest r)
    {
        var grid = new Grid().AddColumn().AddColumn();
        void Row(string key, string value) => grid.AddRow(new Text(key), new Text(value));
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
            table.AddRow(Markup.Escape(g.Name), Markup.Escape(g.Dataset), Markup.Escape(g.Consumer), Markup.Escape(g.Provider),
                EnumName(g.State), Markup.Escape(TermsText(g.Terms)), g.TransfersUsed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        Write(output, table);
        output.WriteLine(grants.Count == 1 ? "1 grant" : $"{grants.Count} grants");
    }

    public static void GrantDetail(TextWriter output, Grant g)
    {
        var grid = new Grid().AddColumn().AddColumn();
        void Row(string key, string value) => grid.AddRow(new Text(key), new Text(value));
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
        $"{e.Index,8}  {e.Time.ToDateTimeOffset():u}  {e.Actor,-12} {e.Action,-18} {e.Resource,-32} {EnumName(e.Outcome),-8} " +
        string.Join("; ", e.Details.Select(d => $"{d.Key}={d.Value}"));

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
