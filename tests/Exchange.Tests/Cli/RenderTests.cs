using System.Text.Json;
using Exchange.Cli;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Tests.Cli;

/// <summary>
/// What the CLI prints of strings the gateway sends: escapes instead of terminal control
/// sequences, line breaks or bidi reordering, and never Spectre markup.
/// </summary>
public sealed class RenderTests
{
    /// <summary>Colours the screen red, sets a hyperlink, overwrites the line, starts a new one, then reverses the rest.</summary>
    internal const string Hostile = "\u001b[31mred\u001b]8;;x\u0007\r\nnew\u202Eevil";

    /// <summary><see cref="Hostile"/> as the CLI must print it.</summary>
    internal const string Escaped = @"\x1b[31mred\x1b]8;;x\x07\r\nnew\u202eevil";

    /// <summary>Fails when <paramref name="output"/> holds anything a terminal would act on (line feeds between lines aside).</summary>
    internal static void AssertPrintable(string output)
    {
        var bad = output.Select((c, i) => (c, i)).FirstOrDefault(x => x.c != '\n' && ActsOnTerminal(x.c));
        Assert.True(bad == default, $"raw U+{(int)bad.c:X4} at {bad.i} in: {output}");
    }

    /// <summary>C0, DEL, C1, the Unicode Bidi_Control characters and the line and paragraph separators.</summary>
    private static bool ActsOnTerminal(char c) =>
        c < 0x20 || c is >= '\u007f' and <= '\u009f' or '\u061c' or '\u200e' or '\u200f' or >= '\u202a' and <= '\u202e'
            or >= '\u2066' and <= '\u2069' or '\u2028' or '\u2029';

    [Fact]
    public void Escaping_names_each_control_and_bidi_character_and_leaves_other_text_alone()
    {
        Assert.Equal(Escaped, Render.Printable(Hostile));
        Assert.Equal(@"\x00\t\x7f\x85\x9f\u061c\u200e\u200f\u202a\u202e\u2066\u2069\u2028\u2029",
            Render.Printable("\0\t\u007f\u0085\u009f\u061c\u200e\u200f\u202a\u202e\u2066\u2069\u2028\u2029"));
        Assert.Equal(@"one\ntwo\r", Render.Printable("one\ntwo\r"));
        Assert.Equal("one\ntwo\\r", Render.Printable("one\ntwo\r", multiline: true));

        const string Plain = "Wetter – Ørsta, 東京 [raw] \\x1b é\u200d";
        Assert.Same(Plain, Render.Printable(Plain));
    }

    [Fact]
    public void Tables_details_and_tail_lines_show_server_strings_escaped_and_never_as_markup()
    {
        var dataset = new Dataset
        {
            Name = "datasets/d1",
            Title = Hostile,
            Provider = "[red]acme[/]",
            Description = "first\nsecond\u001b[2J",
            State = DatasetState.Listed,
            UpdateTime = Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch),
        };
        dataset.Tags.Add("[bold");
        var terms = new Terms { Purposes = { Hostile } };
        var grant = new Grant { Name = "grants/g1", Dataset = "datasets/d1", Consumer = Hostile, Provider = "acme", Terms = terms };
        var request = new AccessRequest { Name = "accessRequests/r1", Purpose = Hostile, DecisionReason = Hostile, RequestedTerms = terms };
        var auditEvent = new AuditEvent
        {
            Index = 7,
            Time = Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch),
            Actor = "[link=http://evil]me[/]",
            Action = "dataset.create",
            Resource = Hostile,
            Details = { new AuditDetail { Key = "title", Value = "x\u001b[2J" } },
        };

        var table = Rendered(output => Render.DatasetTable(output, [dataset]));
        Assert.Contains(Escaped, table);
        Assert.Contains("[red]acme[/]", table);
        Assert.Contains("[bold", table);

        var detail = Rendered(output => Render.DatasetDetail(output, dataset));
        Assert.Contains(Escaped, detail);
        // A description is meant to span lines; only its line feeds stay.
        Assert.DoesNotContain(@"first\nsecond", detail);
        Assert.Contains(@"second\x1b[2J", detail);

        Assert.Contains(Escaped, Rendered(output => Render.GrantTable(output, [grant])));
        Assert.Contains(Escaped, Rendered(output => Render.GrantDetail(output, grant)));
        Assert.Contains(Escaped, Rendered(output => Render.AccessRequestTable(output, [request])));
        Assert.Contains(Escaped, Rendered(output => Render.AccessRequestDetail(output, request)));

        var audit = Rendered(output => Render.AuditTable(output, [auditEvent]));
        Assert.Contains(Escaped, audit);
        Assert.Contains("[link=http://evil]me[/]", audit);

        var line = Render.AuditLine(auditEvent);
        AssertPrintable(line);
        Assert.DoesNotContain('\n', line);
        Assert.Contains(Escaped, line);
        Assert.EndsWith(@"title=x\x1b[2J", line);
    }

    [Fact]
    public void Json_output_carries_the_exact_strings_as_json_escapes()
    {
        var dataset = new Dataset { Name = "datasets/d1", Title = Hostile + "\u2066\u2069\u0085" };

        var json = Rendered(output => Render.Json(output, dataset));
        var array = Rendered(output => Render.JsonArray(output, [dataset]));

        using (var document = JsonDocument.Parse(json))
        {
            Assert.Equal(dataset.Title, document.RootElement.GetProperty("title").GetString());
        }

        using (var document = JsonDocument.Parse(array))
        {
            Assert.Equal(dataset.Title, document.RootElement[0].GetProperty("title").GetString());
        }
    }

    private static string Rendered(Action<TextWriter> render)
    {
        var output = new StringWriter();
        render(output);
        AssertPrintable(output.ToString());
        return output.ToString();
    }
}
