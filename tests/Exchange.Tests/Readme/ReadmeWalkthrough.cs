using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Exchange.Tests.Readme;

/// <summary>
/// Runs the shell blocks of the README as a new user would, one line after another, in bash: the
/// `exchange` command is the built CLI, the gateway the real binary, the working directory a
/// fresh one beside a link to certs-dev/, and the ids the commands print replace the README's
/// placeholders (datasets/&lt;id&gt;, accessRequests/&lt;rid&gt;, grants/&lt;gid&gt;; a right registered,
/// datasets/&lt;id&gt;/rights/&lt;right&gt;, or licensed, …/rights/&lt;licence&gt;; an objection,
/// …/rights/&lt;right&gt;/objections/&lt;oid&gt;; the last offer printed, …/offers/&lt;offer&gt;). A line followed by
/// comment lines starting with "# → " must print each of those (a "…" stands for anything), and
/// exit 0 unless one of them starts with "(exit N)".
/// </summary>
internal sealed partial class ReadmeWalkthrough(string workDirectory, string cli, Uri server, Action<string> log)
{
    private readonly Dictionary<string, string> _variables = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _placeholders = new(StringComparer.Ordinal);

    /// <summary>One command of the README: its text (continuation lines joined), what it must print, and where it is.</summary>
    public sealed record Step(string Command, IReadOnlyList<string> Expected, int Line);

    /// <summary>The steps of the first ```bash block after the heading that contains <paramref name="heading"/>.</summary>
    public static List<Step> Block(string readme, string heading)
    {
        var lines = readme.Split('\n');
        var at = Array.FindIndex(lines, l => l.StartsWith('#') && l.Contains(heading, StringComparison.Ordinal));
        Assert.True(at >= 0, $"the README has no heading with '{heading}'");
        var open = Array.FindIndex(lines, at, l => l.TrimEnd() == "```bash");
        var close = Array.FindIndex(lines, open + 1, l => l.TrimEnd() == "```");
        var steps = new List<Step>();
        for (var i = open + 1; i < close; i++)
        {
            var text = lines[i].TrimEnd();
            var expected = ExpectedPattern().Match(text);
            if (expected.Success)
            {
                Assert.True(steps.Count > 0, $"README line {i + 1}: an expected output with no command before it");
                ((List<string>)steps[^1].Expected).Add(expected.Groups[1].Value);
                continue;
            }

            if (text.TrimStart().StartsWith('#') || text.Trim().Length == 0)
            {
                continue;
            }

            var start = i;
            var command = new StringBuilder();
            while (text.EndsWith('\\'))
            {
                command.Append(text[..^1]).Append(' ');
                text = lines[++i].TrimEnd();
            }

            command.Append(text);
            steps.Add(new Step(StripComment(command.ToString()).Trim(), new List<string>(), start + 1));
        }

        return steps;
    }

    /// <summary>Sets an environment variable for every later step, as an earlier line of the README would.</summary>
    public void Set(string name, string value) => _variables[name] = value;

    /// <summary>Runs one step; returns what it printed (stdout and stderr).</summary>
    public async Task<string> RunAsync(Step step, TimeSpan? stopAfter = null)
    {
        var command = Substitute(step);
        var assignment = AssignmentPattern().Match(command);
        if (command.StartsWith("export ", StringComparison.Ordinal))
        {
            var (name, value) = (command[7..].Split('=', 2)[0], command[7..].Split('=', 2)[1]);
            _variables[name] = await ExpandAsync(value);
            return "";
        }

        var script = assignment.Success ? $"printf %s \"$({assignment.Groups[2].Value})\"" : command;
        if (stopAfter is { } limit)
        {
            script = $"timeout {limit.TotalSeconds:0} bash -c {Quote(Prelude + script)}";
        }

        var (exit, output, error) = await BashAsync(script);
        log($"$ {command}\n{output}{error}");
        var stopped = stopAfter is not null && exit == 124;
        var expectedExit = step.Expected.Select(e => ExitPattern().Match(e)).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value,
            System.Globalization.CultureInfo.InvariantCulture)).DefaultIfEmpty(0).First();
        Assert.True(exit == expectedExit || stopped, $"README line {step.Line}: `{command}` exited {exit}, not {expectedExit}:\n{output}{error}");
        if (assignment.Success)
        {
            _variables[assignment.Groups[1].Value] = output.Trim();
        }

        var printed = output + error;
        Remember(command, printed);
        foreach (var expected in step.Expected.Select(e => ExitPattern().Replace(e, "")))
        {
            var pattern = string.Join(".*?", expected.Split('…').Select(Regex.Escape));
            Assert.True(Regex.IsMatch(printed, pattern, RegexOptions.Singleline),
                $"README line {step.Line}: `{command}` should print '{expected}', but printed:\n{printed}");
        }

        return printed;
    }

    private const string Prelude = "set -o pipefail; exchange() { dotnet \"$EXCHANGE_CLI\" \"$@\"; }; ";

    private string Substitute(Step step)
    {
        // Each placeholder where it stands: datasets/<id> is also the start of datasets/<id>/offers/<offer>.
        return PlaceholderPattern().Replace(step.Command, placeholder =>
        {
            Assert.True(_placeholders.TryGetValue(placeholder.Value, out var value),
                $"README line {step.Line}: nothing printed so far gives {placeholder.Value}");
            return value!;
        });
    }

    private void Remember(string command, string printed)
    {
        // A right's own name comes first in what register and license print (the right it was licensed from, later).
        var right = RightPattern().Match(printed);
        if (right.Success && command.Contains("rights register", StringComparison.Ordinal))
        {
            _placeholders["datasets/<id>/rights/<right>"] = right.Value;
        }
        else if (right.Success && command.Contains("rights license", StringComparison.Ordinal))
        {
            _placeholders["datasets/<id>/rights/<licence>"] = right.Value;
        }

        if (Regex.Matches(printed, @"datasets/[a-z0-9][a-z0-9-]*/offers/[a-z0-9][a-z0-9-]*") is { Count: > 0 } offers)
        {
            _placeholders["datasets/<id>/offers/<offer>"] = offers[^1].Value;
        }

        if (Regex.Matches(printed, $@"{RightPattern()}/objections/[a-z0-9][a-z0-9-]*") is { Count: > 0 } objections)
        {
            _placeholders["datasets/<id>/rights/<right>/objections/<oid>"] = objections[^1].Value;
        }

        foreach (var (kind, placeholder) in new[] { ("datasets", "datasets/<id>"), ("accessRequests", "accessRequests/<rid>"), ("grants", "grants/<gid>") })
        {
            var found = Regex.Matches(printed, $@"\b{kind}/[a-z0-9][a-z0-9-]*\b");
            if (found.Count > 0)
            {
                _placeholders[placeholder] = found[^1].Value;
            }
        }
    }

    private async Task<string> ExpandAsync(string value) => (await BashAsync($"printf %s {value}")).Output;

    private async Task<(int Exit, string Output, string Error)> BashAsync(string script)
    {
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = workDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Prelude + script);
        start.Environment["HOME"] = Path.Combine(workDirectory, "home");
        start.Environment["EXCHANGE_CLI"] = cli;
        start.Environment["EXCHANGE_SERVER"] = server.ToString().TrimEnd('/');
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["COLUMNS"] = "200";
        foreach (var (name, value) in _variables)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    private static string Quote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>The command without a trailing "# comment" (a '#' after a space, outside quotes).</summary>
    private static string StripComment(string line)
    {
        var quote = '\0';
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote != '\0')
            {
                quote = c == quote ? '\0' : quote;
            }
            else if (c is '\'' or '"')
            {
                quote = c;
            }
            else if (c == '#' && i > 0 && char.IsWhiteSpace(line[i - 1]))
            {
                return line[..i];
            }
        }

        return line;
    }

    [GeneratedRegex(@"^\s*#\s+→\s+(.+)\z")]
    private static partial Regex ExpectedPattern();

    [GeneratedRegex(@"^\(exit (\d+)\)\s*")]
    private static partial Regex ExitPattern();

    [GeneratedRegex(@"^([A-Z_]+)=\$\((.*)\)\z")]
    private static partial Regex AssignmentPattern();

    [GeneratedRegex(@"(datasets/<id>/offers/<offer>|datasets/<id>/rights/<right>/objections/<oid>|datasets/<id>/rights/<right>|datasets/<id>/rights/<licence>|datasets/<id>|accessRequests/<rid>|grants/<gid>)")]
    private static partial Regex PlaceholderPattern();

    [GeneratedRegex(@"datasets/[a-z0-9][a-z0-9-]*/rights/[a-z0-9][a-z0-9-]*")]
    private static partial Regex RightPattern();
}
