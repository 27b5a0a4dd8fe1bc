using System.CommandLine;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Cli.Commands;

/// <summary><c>exchange datasets list|get|create|update|publish|delist</c>.</summary>
internal static class DatasetsCommand
{
    public static Command Create(CliApp app)
    {
        var command = new Command("datasets", "Browse and manage datasets in the catalog.");
        command.Add(List(app));
        command.Add(Get(app));
        command.Add(CreateDataset(app));
        command.Add(Update(app));
        command.Add(Publish(app));
        command.Add(Delist(app));
        command.Add(Revisions(app));
        return command;
    }

    private static Argument<string> NameArgument() => new("name") { Description = "The dataset, e.g. datasets/abc123." };

    private static Command List(CliApp app)
    {
        var query = new Option<string?>("--query", "-q") { Description = "Free text to find in title, description or tags." };
        var tag = new Option<string?>("--tag") { Description = "Only datasets with this tag." };
        var provider = new Option<string?>("--provider") { Description = "Only datasets of this provider." };
        var classification = new Option<string?>("--classification") { Description = "public, internal, sensitive or core." };
        var state = new Option<string?>("--state") { Description = "draft, listed or delisted." };
        var complete = new Option<double>("--min-completeness")
        {
            Description = "Only tables whose latest revision has at least this share of cells filled, e.g. 0.95.",
        };
        var limit = new Option<int>("--limit")
        {
            Description = "Print at most this many datasets (0 = all).",
            DefaultValueFactory = _ => 100,
        };
        var command = new Command("list", "List the datasets you may see, walking every page.")
        {
            query, tag, provider, classification, state, complete, limit,
        };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            var request = new ListDatasetsRequest
            {
                Query = parse.GetValue(query) ?? "",
                Tag = parse.GetValue(tag) ?? "",
                Provider = parse.GetValue(provider) ?? "",
                Classification = ParseEnum<Classification>(parse.GetValue(classification), "--classification"),
                State = ParseEnum<DatasetState>(parse.GetValue(state), "--state"),
                MinCompleteness = parse.GetValue(complete),
            };
            var max = parse.GetValue(limit);
            using var client = app.Connect(parse);
            var datasets = await client.EnumerateDatasetsAsync(request, cancellationToken).AtMost(max).ToListAsync(cancellationToken);

            if (parse.GetValue(app.Json))
            {
                Render.JsonArray(app.Output, datasets);
            }
            else
            {
                Render.DatasetTable(app.Output, datasets);
            }

            return 0;
        }));
        return command;
    }

    private static Command Get(CliApp app)
    {
        var name = NameArgument();
        var command = new Command("get", "Show one dataset.") { name };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var response = await client.Catalog.GetDatasetAsync(new GetDatasetRequest { Name = parse.GetValue(name) },
                cancellationToken: cancellationToken);
            Print(app, parse, response.Dataset);
            if (!parse.GetValue(app.Json) && response.Dataset.LatestRevision.Length > 0)
            {
                // A buyer judges a table by its columns and their quality: shown with the dataset.
                var latest = await client.Catalog.GetRevisionAsync(new GetRevisionRequest { Name = response.Dataset.LatestRevision },
                    cancellationToken: cancellationToken);
                if (latest.Revision.Format != TableFormat.Unspecified)
                {
                    app.Output.WriteLine();
                    Render.TableProfile(app.Output, latest.Revision);
                }
            }

            return 0;
        }));
        return command;
    }

    private static Command CreateDataset(CliApp app)
    {
        var title = new Option<string>("--title") { Description = "A short title.", Required = true };
        var description = new Option<string?>("--description") { Description = "What the data is." };
        var tags = new Option<string[]>("--tag") { Description = "A tag; repeat for several." };
        var classification = new Option<string>("--classification")
        {
            Description = "public, internal, sensitive or core.",
            Required = true,
        };
        var requestId = new Option<string?>("--request-id") { Description = "Makes a retried create idempotent." };
        var auto = new AutoApprovalOptions();
        var command = new Command("create", "Create a dataset (as a provider); it starts as a draft.")
        {
            title, description, tags, classification, requestId,
        };
        auto.AddTo(command);
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            var dataset = new Dataset
            {
                Title = parse.GetValue(title)!,
                Description = parse.GetValue(description) ?? "",
                Classification = ParseEnum<Classification>(parse.GetValue(classification), "--classification"),
            };
            dataset.Tags.Add(parse.GetValue(tags) ?? []);
            dataset.AutoApprovalTerms = auto.Read(parse);
            using var client = app.Connect(parse);
            var response = await client.Catalog.CreateDatasetAsync(
                new CreateDatasetRequest { Dataset = dataset, RequestId = parse.GetValue(requestId) ?? "" },
                cancellationToken: cancellationToken);
            Print(app, parse, response.Dataset);
            return 0;
        }));
        return command;
    }

    private static Command Update(CliApp app)
    {
        var name = NameArgument();
        var title = new Option<string?>("--title") { Description = "New title." };
        var description = new Option<string?>("--description") { Description = "New description." };
        var tags = new Option<string[]>("--tag") { Description = "Replace the tags; repeat for several." };
        var clearTags = new Option<bool>("--clear-tags") { Description = "Remove every tag." };
        var classification = new Option<string?>("--classification") { Description = "public, internal, sensitive or core." };
        var auto = new AutoApprovalOptions();
        var command = new Command("update",
            "Change a dataset's title, description, tags, classification or automatic approval (its provider only).")
        {
            name, title, description, tags, clearTags, classification,
        };
        auto.AddTo(command);
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            var dataset = new Dataset { Name = parse.GetValue(name)! };
            var mask = new FieldMask();
            if (parse.GetValue(title) is { } newTitle)
            {
                dataset.Title = newTitle;
                mask.Paths.Add("title");
            }

            if (parse.GetValue(description) is { } newDescription)
            {
                dataset.Description = newDescription;
                mask.Paths.Add("description");
            }

            if (parse.GetValue(tags) is { Length: > 0 } newTags)
            {
                dataset.Tags.Add(newTags);
                mask.Paths.Add("tags");
            }
            else if (parse.GetValue(clearTags))
            {
                mask.Paths.Add("tags");
            }

            if (parse.GetValue(classification) is { } newClassification)
            {
                dataset.Classification = ParseEnum<Classification>(newClassification, "--classification");
                mask.Paths.Add("classification");
            }

            if (auto.Given(parse))
            {
                dataset.AutoApprovalTerms = auto.Read(parse);
                mask.Paths.Add("auto_approval_terms");
            }

            if (mask.Paths.Count == 0)
            {
                await app.Error.WriteLineAsync(
                    "error: nothing to update; give --title, --description, --tag, --clear-tags, --classification or an --auto-… option.");
                return 2;
            }

            using var client = app.Connect(parse);
            var response = await client.Catalog.UpdateDatasetAsync(new UpdateDatasetRequest { Dataset = dataset, UpdateMask = mask },
                cancellationToken: cancellationToken);
            Print(app, parse, response.Dataset);
            return 0;
        }));
        return command;
    }

    private static Command Publish(CliApp app)
    {
        var name = NameArgument();
        var command = new Command("publish", "List a draft or delisted dataset in the catalog (its provider only).") { name };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var response = await client.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = parse.GetValue(name) },
                cancellationToken: cancellationToken);
            Print(app, parse, response.Dataset);
            return 0;
        }));
        return command;
    }

    private static Command Delist(CliApp app)
    {
        var name = NameArgument();
        var reason = new Option<string?>("--reason") { Description = "Why: shown with the dataset to those who still see it, and in the audit log." };
        var command = new Command("delist", "Take a listed dataset off the catalog (its provider or an operator).") { name, reason };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var response = await client.Catalog.DelistDatasetAsync(
                new DelistDatasetRequest { Name = parse.GetValue(name), Reason = parse.GetValue(reason) ?? "" },
                cancellationToken: cancellationToken);
            Print(app, parse, response.Dataset);
            return 0;
        }));
        return command;
    }

    private static Command Revisions(CliApp app)
    {
        var name = NameArgument();
        var command = new Command("revisions", "List a dataset's revisions, oldest first: size, media type and SHA-256.") { name };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            using var client = app.Connect(parse);
            var revisions = await client.EnumerateRevisionsAsync(parse.GetValue(name)!, cancellationToken).ToListAsync(cancellationToken);
            if (parse.GetValue(app.Json))
            {
                Render.JsonArray(app.Output, revisions);
            }
            else
            {
                Render.RevisionTable(app.Output, revisions);
            }

            return 0;
        }));
        return command;
    }

    /// <summary>
    /// Why <paramref name="dataset"/> was delisted: the reason in the last dataset.delist event the
    /// caller may read, "" when none was given, null when the caller may read no such event.
    /// </summary>
    private static void Print(CliApp app, ParseResult parse, Dataset dataset)
    {
        if (parse.GetValue(app.Json))
        {
            Render.Json(app.Output, dataset);
        }
        else
        {
            Render.DatasetDetail(app.Output, dataset);
        }
    }

    private static T ParseEnum<T>(string? text, string option) where T : struct, System.Enum
    {
        if (string.IsNullOrEmpty(text))
        {
            return default;
        }

        return Render.TryParseEnum<T>(text, out var value)
            ? value
            : throw new FormatException($"{option} '{text}' is not one of the known values.");
    }
}
