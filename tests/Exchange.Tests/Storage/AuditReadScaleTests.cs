using System.Diagnostics;
using Exchange.Server.Audit;
using Exchange.Server.Security;
using Exchange.Server.Storage;
using Exchange.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Exchange.Tests.Storage;

/// <summary>
/// A log of 200,000 events: a filtered page that matches nothing answers from an index, not by
/// walking the log, for every filter a participant may use and for each kind of caller, also when
/// the filter matches much of the log but nothing the caller may read. Times are
/// compared with one walk of the whole log in the same run.
/// </summary>
[Trait("Category", "Slow")]
public sealed class AuditReadScaleTests(ITestOutputHelper output) : IDisposable
{
    private const int Events = 200_000;
    private readonly ExchangeFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task A_filtered_page_that_matches_nothing_does_not_walk_the_log()
    {
        var database = _factory.Services.GetRequiredService<Database>();
        var store = _factory.Services.GetRequiredService<AuditStore>();
        await FillAsync(database);
        var size = store.Size;
        Assert.True(size >= Events, $"{size} events");

        var consumer = new Caller("initech", new HashSet<string> { Roles.Consumer });
        var provider = new Caller("acme", new HashSet<string> { Roles.Provider });
        var auditor = new Caller("audit-co", new HashSet<string> { Roles.Auditor });
        var stranger = new Caller("stranger", new HashSet<string> { Roles.Consumer });
        var future = Timestamps.ToMicros(DateTimeOffset.UtcNow.AddYears(1));
        var past = Timestamps.ToMicros(DateTimeOffset.UtcNow.AddYears(-1));
        // ByScope: the filter matches much of the log, none of it the caller's, so the caller's own events lead.
        var cases = new (string Name, AuditQuery Query, Caller Caller, bool ByScope)[]
        {
            ("action, consumer", new AuditQuery(null, null, "nothing.here", null, null), consumer, false),
            ("action, auditor", new AuditQuery(null, null, "nothing.here", null, null), auditor, false),
            ("dataset, provider", new AuditQuery("datasets/none", null, null, null, null), provider, false),
            ("dataset, auditor", new AuditQuery("datasets/none", null, null, null, null), auditor, false),
            ("participant, auditor", new AuditQuery(null, "nobody", null, null, null), auditor, false),
            ("participant, consumer", new AuditQuery(null, "nobody", null, null, null), consumer, false),
            ("own events, none", new AuditQuery(null, null, null, null, null), stranger, false),
            ("start time ahead, consumer", new AuditQuery(null, null, null, future, null), consumer, false),
            ("end time before the log, auditor", new AuditQuery(null, null, null, null, past), auditor, false),
            ("busy action, none of it the caller's", new AuditQuery(null, null, "transfer.start", null, null), stranger, true),
            ("busy participant, none of it the caller's", new AuditQuery(null, "initech", null, null, null), stranger, true),
        };

        var walk = Median(() => database.ReadAsync(c => c.Command("SELECT COUNT(*) FROM audit_events WHERE length(leaf) < 0").ExecuteScalar(),
            CancellationToken.None));
        output.WriteLine($"one walk of the {size:N0}-event log: {(await walk).TotalMilliseconds:0.00} ms");
        var slow = new List<string>();
        foreach (var (name, query, caller, byScope) in cases)
        {
            var (page, next) = await store.ListAsync(query, caller, 0, size, 100, CancellationToken.None);
            Assert.Empty(page);
            Assert.Null(next);
            var took = await Median(() => store.ListAsync(query, caller, 0, size, 100, CancellationToken.None));
            output.WriteLine($"{name}: {took.TotalMilliseconds:0.000} ms");
            if (took * 10 > await walk)
            {
                slow.Add($"{name}: {took.TotalMilliseconds:0.000} ms");
            }

            if (query.StartMicros is null && query.EndMicros is null)
            {
                var plan = await database.ReadAsync(c =>
                {
                    using var explain = c.Command("EXPLAIN QUERY PLAN " + AuditStore.ListSql(query, caller, byScope));
                    foreach (var parameter in new[] { "@from", "@size", "@limit", "@me", "@dataset", "@participant", "@action" })
                    {
                        explain.With(parameter, 1);
                    }

                    using var reader = explain.ExecuteReader();
                    var steps = new List<string>();
                    while (reader.Read())
                    {
                        steps.Add(reader.GetString(3));
                    }

                    return string.Join(" | ", steps);
                }, CancellationToken.None);
                Assert.True(plan.Contains("USING INDEX", StringComparison.Ordinal) && !plan.Contains("PRIMARY KEY", StringComparison.Ordinal),
                    $"{name} is served by {plan}");
            }
        }

        Assert.True(slow.Count == 0, $"a no-match page took more than a tenth of a walk of the log ({(await walk).TotalMilliseconds:0.00} ms): {string.Join("; ", slow)}");
    }

    /// <summary>Events of three providers' datasets, four consumers and every kind of action, written as the gateway writes them.</summary>
    private static async Task FillAsync(Database database)
    {
        string[] consumers = ["initech", "umbrella", "hooli", "wonka"];
        string[] providers = ["acme", "globex", "soylent"];
        string[] actions = ["access.request", "access.approve", "transfer.start", "transfer.complete", "dataset.update"];
        for (var batch = 0; batch < Events / 10_000; batch++)
        {
            await database.WriteAsync(unit =>
            {
                for (var i = 0; i < 10_000; i++)
                {
                    var n = (batch * 10_000) + i;
                    var provider = providers[n % providers.Length];
                    var consumer = consumers[n % consumers.Length];
                    var action = actions[n % actions.Length];
                    unit.Record(new AuditEntry(action.StartsWith("access.approve", StringComparison.Ordinal) ? provider : consumer, action,
                        $"transfers/t{n}", Exchange.Server.Storage.Outcome.Success, Dataset: $"datasets/{provider}{n % 40}", Subject: consumer, DatasetProvider: provider));
                }

                return 0;
            }, CancellationToken.None);
        }
    }

    private static async Task<TimeSpan> Median<T>(Func<Task<T>> call)
    {
        var times = new List<TimeSpan>();
        for (var i = 0; i < 7; i++)
        {
            var clock = Stopwatch.StartNew();
            await call();
            times.Add(clock.Elapsed);
        }

        return times.Order().ElementAt(3);
    }
}
