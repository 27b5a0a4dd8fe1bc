using System.CommandLine;
using Exchange.Client.Lineage;
using Exchange.V1;

namespace Exchange.Cli.Commands;

/// <summary><c>exchange lineage declare|get</c>: which datasets are derived from which, under which grants; <c>--prov</c> writes W3C PROV-O.</summary>
internal static class LineageCommand
{
    public static Command Create(CliApp app)
    {
        var command = new Command("lineage", "Declare what a dataset is derived from, and see the lineage graph.");
        command.Add(Declare(app));
        command.Add(Get(app));
        return command;
    }

    private static Command Declare(CliApp app)
    {
        var dataset = new Argument<string>("dataset") { Description = "The derived dataset, which you provide, e.g. datasets/abc123." };
        var sources = new Option<string[]>("--from")
        {
            Description = "A source: REVISION=GRANT, e.g. datasets/src/revisions/3=grants/g1 (your grant on it, allowing derivation), or GRANT alone "
                + "for the latest revision of the grant's dataset; repeat for several.",
            Required = true,
        };
        var command = new Command("declare", "Declare that a dataset you provide was derived from revisions you received under grants that allow it.")
        {
            dataset, sources,
        };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var request = new DeclareDerivationRequest { Dataset = parse.GetValue(dataset) };
            foreach (var source in parse.GetValue(sources) ?? [])
            {
                var parts = source.Split('=', 2, StringSplitOptions.TrimEntries);
                if (parts.Length == 2)
                {
                    request.Sources.Add(new DerivationSource { Revision = parts[0], Grant = parts[1] });
                    continue;
                }

                // A grant alone: the latest revision of its dataset, as the gateway shows it now.
                var grant = (await client.Access.GetGrantAsync(new GetGrantRequest { Name = parts[0] }, cancellationToken: cancellationToken)).Grant;
                var latest = (await client.Catalog.GetDatasetAsync(new GetDatasetRequest { Name = grant.Dataset }, cancellationToken: cancellationToken))
                    .Dataset.LatestRevision;
                request.Sources.Add(new DerivationSource { Revision = latest, Grant = grant.Name });
            }

            var declared = await client.Lineage.DeclareDerivationAsync(request, cancellationToken: cancellationToken);
            if (parse.GetValue(app.Json))
            {
                Render.Json(app.Output, declared);
            }
            else
            {
                foreach (var d in declared.Derivations)
                {
                    app.Output.WriteLine($"derived from {d.SourceRevision} under {d.Grant}: {d.Name}");
                }
            }

            return 0;
        }));
        return command;
    }

    private static Command Get(CliApp app)
    {
        var dataset = new Argument<string>("dataset") { Description = "The dataset, e.g. datasets/abc123." };
        var up = new Option<bool>("--up") { Description = "Only towards its sources." };
        var down = new Option<bool>("--down") { Description = "Only towards its descendants." };
        var depth = new Option<int>("--depth") { Description = "How many steps to follow (default 3, at most 16)." };
        var prov = new Option<bool>("--prov") { Description = "Write the graph as W3C PROV-O (JSON-LD)." };
        var command = new Command("get", "Show the lineage graph around a dataset: what it came from and what was derived from it.") { dataset, up, down, depth, prov };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(up) && parse.GetValue(down))
            {
                throw new FormatException("Give --up or --down, not both (neither: both ways).");
            }

            using var client = app.Connect(parse);
            var lineage = await client.Lineage.GetLineageAsync(new GetLineageRequest
            {
                Dataset = parse.GetValue(dataset),
                Direction = parse.GetValue(up) ? LineageDirection.Up : parse.GetValue(down) ? LineageDirection.Down : LineageDirection.Unspecified,
                Depth = parse.GetValue(depth),
            }, cancellationToken: cancellationToken);
            if (parse.GetValue(prov))
            {
                var server = new Uri(parse.GetValue(app.Server) ?? CliApp.DefaultServer);
                app.Output.WriteLine(ProvDocument.From(lineage, server).ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            }
            else if (parse.GetValue(app.Json))
            {
                Render.Json(app.Output, lineage);
            }
            else
            {
                foreach (var node in lineage.Nodes)
                {
                    var status = node.LineageStatus switch
                    {
                        LineageStatus.Flagged => $"  FLAGGED: {node.LineageReason}",
                        LineageStatus.Clear => "  (derived, clear)",
                        _ => "",
                    };
                    app.Output.WriteLine($"{node.Dataset}  {node.Title}  {node.Provider}{status}".TrimEnd());
                }

                foreach (var d in lineage.Derivations)
                {
                    app.Output.WriteLine($"  {d.Dataset} ← {d.SourceRevision} under {d.Grant} ({Render.EnumName(d.State)}{(d.FlagReason.Length > 0 ? $": {d.FlagReason}" : "")})");
                }
            }

            return 0;
        }));
        return command;
    }
}
