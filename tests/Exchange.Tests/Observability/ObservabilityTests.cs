using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Exchange.Tests.Access;
using Exchange.Tests.Audit;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Tests.Observability;

/// <summary>What operators see: Prometheus metrics of calls, denials, bytes and the log; and logs that never hold a token.</summary>
[Collection(AloneCollection.Name)]
public sealed class ObservabilityTests
{
    [Fact]
    public async Task Metrics_count_calls_denials_bytes_and_the_log_and_only_the_metrics_role_may_scrape_them()
    {
        using var factory = new ExchangeFactory();
        using var acme = factory.As(Participant.Acme);
        using var initech = factory.As(Participant.Initech);
        var content = RandomNumberGenerator.GetBytes(300_000);
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        await acme.UploadAsync(dataset.Name, new MemoryStream(content));
        var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset));
        await initech.DownloadAllAsync(grant.Name);
        await Rpc.FailsWith(StatusCode.PermissionDenied, initech.Catalog.DelistDatasetAsync(new DelistDatasetRequest { Name = dataset.Name }));
        using (var anonymous = factory.ClientWithToken(null))
        {
            await Rpc.FailsWith(StatusCode.Unauthenticated, anonymous.Catalog.ListDatasetsAsync(new ListDatasetsRequest()));
        }

        using var auditor = factory.As(Participant.Auditor);
        var events = (await auditor.AllEventsAsync()).Count;

        using var http = factory.CreateClient();
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await http.GetAsync("/metrics")).StatusCode);
        http.DefaultRequestHeaders.Authorization = new("Bearer", ExchangeFactory.Token("acme", "provider"));
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, (await http.GetAsync("/metrics")).StatusCode);
        http.DefaultRequestHeaders.Authorization = new("Bearer", ExchangeFactory.Token(Participant.Operator.Id, Participant.Operator.Roles));
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, (await http.GetAsync("/metrics")).StatusCode);
        http.DefaultRequestHeaders.Authorization = new("Bearer", ExchangeFactory.Token(Participant.Metrics.Id, Participant.Metrics.Roles));
        var scrape = await http.GetStringAsync("/metrics");

        Assert.True(Value(scrape, "exchange_rpc_calls_total", "rpc_method=\"/exchange.v1.TransferService/Download\"", "rpc_grpc_status_code=\"OK\"") >= 1, scrape);
        Assert.True(Value(scrape, "exchange_rpc_calls_total", "rpc_method=\"/exchange.v1.CatalogService/DelistDataset\"", "rpc_grpc_status_code=\"PermissionDenied\"") >= 1);
        Assert.True(Value(scrape, "exchange_denials_total", "reason=\"permission_denied\"", "action=\"dataset.delist\"") >= 1);
        Assert.True(Value(scrape, "exchange_denials_total", "reason=\"unauthenticated\"") >= 1);
        Assert.True(Value(scrape, "exchange_transfer_bytes_total", "direction=\"upload\"") >= content.Length);
        Assert.True(Value(scrape, "exchange_transfer_bytes_total", "direction=\"download\"") >= content.Length);
        Assert.True(Value(scrape, "exchange_transfer_duration_seconds_count", "direction=\"download\"", "outcome=\"completed\"") >= 1);
        Assert.True(Value(scrape, "exchange_audit_appends_total") >= events);
        Assert.True(Value(scrape, "exchange_audit_log_size") >= events);
        Assert.DoesNotContain("acme", scrape, StringComparison.Ordinal);
        Assert.DoesNotContain(dataset.Name, scrape, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_token_good_or_bad_appears_in_any_log_line_at_any_level()
    {
        var logs = new CapturedLogs();
        using var factory = new ExchangeFactory { Logs = logs };
        var good = ExchangeFactory.Token("acme", "provider");
        var parts = good.Split('.');
        var tampered = $"{parts[0]}.{parts[1]}.{parts[2][..^4]}AAAA";
        var expired = Exchange.Cli.DevTokens.Mint(ExchangeFactory.DevKeyFile, "acme", ["provider"], TimeSpan.FromMinutes(1), now: DateTimeOffset.UtcNow.AddHours(-1));
        const string garbage = "not-a-jwt-but-a-secret-7f3a9c";

        foreach (var token in new[] { good, tampered, expired, garbage })
        {
            using var client = factory.ClientWithToken(token);
            try
            {
                await client.Catalog.ListDatasetsAsync(new ListDatasetsRequest());
            }
            catch (RpcException)
            {
            }
        }

        Assert.NotEmpty(logs.Lines);
        foreach (var secret in new[] { parts[2], tampered.Split('.')[2], expired.Split('.')[2], garbage, parts[1] })
        {
            Assert.DoesNotContain(logs.Lines, line => line.Contains(secret, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Calls_and_database_group_commits_are_traced()
    {
        var spans = new System.Collections.Concurrent.ConcurrentBag<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name is "Exchange" or "Exchange.Storage" or "Microsoft.AspNetCore",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        using var factory = new ExchangeFactory();
        using var acme = factory.As(Participant.Acme);

        await CatalogFixture.CreateAsync(acme);

        // A group commit serves many calls at once, so it is a span of its own on the writer, not a child of one call.
        Assert.Contains(spans, s => s.OperationName == "exchange.db.commit" && (int)s.GetTagItem("exchange.db.units")! >= 1);
        Assert.Contains(spans, s => s.OperationName == "Microsoft.AspNetCore.Hosting.HttpRequestIn");
    }

    [Fact]
    public async Task Kestrel_metrics_are_exported_but_not_its_per_block_memory_pool_counters()
    {
        using var gateway = ExchangeFactory.WithTls();
        using (var acme = gateway.TlsClient(ExchangeFactory.Token("acme", "provider")))
        {
            var dataset = await CatalogFixture.CreateAsync(acme);
            await acme.UploadAsync(dataset.Name, new MemoryStream(RandomNumberGenerator.GetBytes(2_000_000)));
        }

        using var ca = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(
            Path.Combine(AppContext.BaseDirectory, "certs-dev", "ca.crt"));
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, chain, _) =>
            {
                chain!.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                return chain.Build(certificate!);
            },
        };
        using var http = new HttpClient(handler) { BaseAddress = gateway.TlsAddress };
        http.DefaultRequestHeaders.Authorization = new("Bearer", ExchangeFactory.Token(Participant.Metrics.Id, Participant.Metrics.Roles));
        var scrape = await http.GetStringAsync("/metrics");

        // Counting every 4 KiB block Kestrel rents cost 3-4% of the gateway's CPU during a transfer.
        Assert.Contains("kestrel_", scrape, StringComparison.Ordinal);
        Assert.DoesNotContain("aspnetcore_memory_pool", scrape, StringComparison.Ordinal);
    }

    /// <summary>The value of the sample of <paramref name="metric"/> whose labels include all of <paramref name="labels"/>.</summary>
    private static double Value(string scrape, string metric, params string[] labels)
    {
        var samples = scrape.Split('\n')
            .Select(line => Regex.Match(line, $@"^{Regex.Escape(metric)}(\{{(?<labels>[^}}]*)\}})? (?<value>\S+)"))
            .Where(m => m.Success && labels.All(l => m.Groups["labels"].Value.Contains(l, StringComparison.Ordinal)))
            .Select(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture))
            .ToList();
        Assert.True(samples.Count > 0, $"no sample of {metric} with {string.Join(", ", labels)}");
        return samples.Sum();
    }
}
