using System.CommandLine;
using Exchange.Client;
using Exchange.Transparency;
using Exchange.V1;

namespace Exchange.Cli.Commands;

/// <summary><c>exchange query grants/{id} "SELECT …"</c>: one aggregate query under a grant, its answer checked against its receipt.</summary>
internal static class QueryCommand
{
    public static Command Create(CliApp app)
    {
        var grant = new Argument<string>("grant") { Description = "The grant to query under, e.g. grants/abc123." };
        var sql = new Argument<string>("sql")
        {
            Description = "One aggregate query over the table 'data', e.g. \"SELECT city, COUNT(*), AVG(amount) FROM data GROUP BY city\".",
        };
        var revision = new Option<string?>("--revision") { Description = "A revision name; default: the latest." };
        var key = new Option<string?>("--verifier-key")
        {
            Description = "The audit log's note verifier key the receipt's checkpoint must be signed by (default: as for download).",
        };
        var trusted = CliApp.TrustedOption();
        var command = new Command("query",
            "Run an aggregate query under a grant's analysis rule. Small groups are suppressed; under differential privacy the "
            + "answer is noisy and spends budget. The answer is shown only once its SHA-256 and receipt verify.")
        {
            grant, sql, revision, key, trusted,
        };
        command.SetAction(app.Guard(async (parse, cancellationToken) =>
        {
            var store = app.TrustedStore(parse, trusted);
            var pinned = parse.GetValue(key) is { } text ? NoteVerifierKey.Parse(text) : null;
            using var client = app.Connect(parse, options =>
            {
                options.AuditLogKey = pinned;
                options.TrustedCheckpoints = store;
            });
            RunQueryResponse answer;
            string receipt;
            try
            {
                answer = await client.RunQueryAsync(parse.GetValue(grant)!, parse.GetValue(sql)!, parse.GetValue(revision), cancellationToken);
                receipt = $"audit event {answer.Receipt.Event.Index} (verified)";
            }
            catch (VerificationException ex) when (ex.UnprovenAnswer is { } unproven)
            {
                // Charged for, so shown: marked unverified, and the command still fails.
                answer = unproven;
                receipt = $"none; logged as audit event {unproven.EventIndex} but not proven yet, so this answer is UNVERIFIED";
                await app.Error.WriteLineAsync($"error: {Render.Printable(ex.Message)}");
            }

            if (parse.GetValue(app.Json))
            {
                Render.Json(app.Output, answer);
            }
            else
            {
                Render.QueryAnswer(app.Output, answer, receipt);
            }

            return answer.Receipt is null ? 1 : 0;
        }));
        return command;
    }
}
