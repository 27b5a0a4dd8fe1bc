using System.Security.Cryptography;
using Exchange.Client;
using Exchange.Tests.Access;
using Exchange.Tests.Audit;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.Tests.Smoke;
using Exchange.V1;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Replicas;

/// <summary>
/// Two gateway replicas on one PostgreSQL database and one S3 bucket serve one exchange: what
/// happens through one is seen through the other, a revocation on one cuts a download on the
/// other, and the log both append to stays one tree that the auditor's verifier accepts.
/// </summary>
[Trait("Category", "Slow")]
public sealed class TwoReplicaTests(S3Server s3) : IClassFixture<S3Server>, IDisposable
{
    private readonly string _keyFile = Path.Combine(Path.GetTempPath(), $"exchange-kek-{Guid.NewGuid():N}.key");
    private readonly string _trusted = Path.Combine(Path.GetTempPath(), $"exchange-trusted-{Guid.NewGuid():N}.json");

    public void Dispose()
    {
        File.Delete(_keyFile);
        File.Delete(_trusted);
    }

    private string _connectionString = "";

    /// <summary>Two replicas sharing a fresh database, the bucket and a key-encryption key; both started (and migrating) at once.</summary>
    private async Task<(ExchangeFactory A, ExchangeFactory B)> ReplicasAsync()
    {
        s3.SkipUnlessAvailable("the replica tests");

        var postgres = PostgresServer.Shared;
        await File.WriteAllTextAsync(_keyFile, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        (string, string)[] settings =
        [
            ("Exchange:Database:Kind", "postgres"),
            ("Exchange:Database:ConnectionString", _connectionString = postgres.ConnectionString(postgres.CreateDatabase())),
            ("Exchange:Encryption:KeyFiles:shared", _keyFile),
            ("Exchange:Transfers:ChunkSize", "65536"),
            .. s3.Settings,
        ];
        var a = ExchangeFactory.With(settings);
        var b = ExchangeFactory.With(settings);
        await Task.WhenAll(Task.Run(() => a.Server), Task.Run(() => b.Server));
        return (a, b);
    }

    [SkippableFact]
    public async Task Under_concurrent_load_through_both_replicas_every_change_is_seen_by_both_and_one_log_verifies()
    {
        var (a, b) = await ReplicasAsync();
        using var _ = a;
        using var __ = b;

        // Each worker uploads through one replica and is approved, downloaded and perhaps revoked through the other.
        async Task WorkAsync(int worker)
        {
            var (mine, theirs) = worker % 2 == 0 ? (a, b) : (b, a);
            using var acme = mine.As(Participant.Acme);
            using var acmeThere = theirs.As(Participant.Acme);
            using var initech = theirs.As(Participant.Initech);
            using var initechHere = mine.As(Participant.Initech);
            for (var round = 0; round < 3; round++)
            {
                var content = RandomNumberGenerator.GetBytes(100_000 + (worker * 7919) + round);
                var dataset = await CatalogFixture.CreateAsync(acme, title: $"worker {worker} round {round}");
                var revision = await acme.UploadAsync(dataset.Name, new MemoryStream(content));
                await acmeThere.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name });
                var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset));

                var (header, bytes, _) = await initech.DownloadAllAsync(grant.Name);
                Assert.Equal(revision.Name, header.Revision);
                Assert.Equal(content, bytes);
                Assert.Equal(content, (await initechHere.DownloadAllAsync(grant.Name)).Bytes);

                if ((worker + round) % 2 == 0)
                {
                    await acmeThere.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = grant.Name, Reason = "load test" });
                    await Rpc.FailsWith(StatusCode.PermissionDenied, () => initechHere.DownloadAllAsync(grant.Name));
                    await Rpc.FailsWith(StatusCode.PermissionDenied, () => initech.DownloadAllAsync(grant.Name));
                }
            }
        }

        using var auditorA = a.As(Participant.Auditor);
        using var auditorB = b.As(Participant.Auditor);
        var load = Task.WhenAll(Enumerable.Range(0, 6).Select(worker => Task.Run(() => WorkAsync(worker))));

        // Verified mid-way through one replica and at the end through the other with the same trust store:
        // the later checkpoint must prove consistent with the earlier one, whichever replica signed either.
        await auditorA.CheckpointCoveringAsync(20);
        var (midExit, midOut, midErr) = await a.RunCliAsync(Participant.Auditor, "audit", "verify", "--trusted", _trusted);
        Assert.True(midExit == 0, midOut + midErr);
        await load;

        var events = await auditorA.AllEventsAsync();
        await auditorB.CheckpointCoveringAsync(events.Count);
        foreach (var replica in new[] { b, a })
        {
            var (exit, output, error) = await replica.RunCliAsync(Participant.Auditor, "audit", "verify", "--trusted", _trusted);
            Assert.True(exit == 0, output + error);
        }

        // One log: no gaps, the same leaves through both replicas, appends from both.
        Assert.Equal(Enumerable.Range(0, events.Count).Select(i => (long)i), events.Select(e => e.Index));
        Assert.Equal(events.Select(e => e.Leaf), (await auditorB.AllEventsAsync()).Select(e => e.Leaf));
        Assert.Equal(6 * 3, events.Count(e => e.Action == "revision.upload" && e.Outcome == AuditOutcome.Success));
        Assert.Equal(6 * 3 * 2, events.Count(e => e.Action == "transfer.complete" && e.Outcome == AuditOutcome.Success));
        Assert.Equal(9, events.Count(e => e.Action == "grant.revoke" && e.Outcome == AuditOutcome.Success));
    }

    [SkippableFact]
    public async Task Charges_made_through_both_replicas_at_once_are_each_made_once_in_one_balanced_ledger()
    {
        var (a, b) = await ReplicasAsync();
        using var _ = a;
        using var __ = b;
        using var acme = a.As(Participant.Acme);
        var perTransfer = Billing.BillingFixture.Offer(OfferKind.PerTransfer, 100);
        perTransfer.FreeUnits = 2;
        perTransfer.CapMinorPerPeriod = 1_500;
        var (dataset, offer) = await Billing.BillingFixture.OfferedAsync(acme, perTransfer);
        var buyers = new[] { Participant.Initech, Participant.Umbrella };
        var grants = new List<Grant>();
        foreach (var buyer in buyers)
        {
            using var client = b.As(buyer);
            grants.Add(await Billing.BillingFixture.BuyAsync(acme, client, dataset, offer));
        }

        // Each buyer downloads ten times through each replica at once; both replicas' meters charge into one ledger.
        await Task.WhenAll(buyers.SelectMany((buyer, i) => new[] { a, b }.Select(replica => Task.Run(async () =>
        {
            using var client = replica.As(buyer);
            for (var n = 0; n < 10; n++)
            {
                await client.DownloadAllAsync(grants[i].Name);
            }
        }))));
        // And both sweep at once: nothing is charged or closed twice.
        await Task.WhenAll(new[] { a, b }.Select(r => r.Services.GetRequiredService<Server.Billing.BillingSweeper>().SweepAsync(CancellationToken.None)));

        foreach (var buyer in buyers)
        {
            using var client = a.As(buyer);
            var statement = await Billing.BillingFixture.StatementAsync(client, buyer.Id);
            Assert.Equal(20, statement.LineCount);
            // 20 transfers, 2 free, 100 each, capped at 1500: whichever replica charged which.
            Assert.Equal(1_500, Assert.Single(statement.Totals).ChargesMinor);
            await Billing.BillingFixture.AssertVerifiesAsync(client, buyer.Id, statement.Period);
        }

        Assert.All((await Billing.BillingFixture.UsageCountsAsync(b)).Values, count => Assert.Equal(1, count));
        Assert.All((await Billing.BillingFixture.BalancesAsync(a)).Values, sum => Assert.Equal(0, sum));
    }

    [SkippableFact]
    public async Task A_grant_revoked_on_one_replica_stops_a_download_running_on_the_other_within_two_seconds()
    {
        var (a, b) = await ReplicasAsync();
        using var _ = a;
        using var __ = b;
        using var acme = a.As(Participant.Acme);
        using var initech = b.As(Participant.Initech);
        var (grant, call, transfer) = await DownloadRunningAsync(acme, initech);
        using var running = call;

        var revoked = (await acme.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = grant.Name, Reason = "stop everywhere" })).Grant;

        var failed = await initech.WaitForTransferAsync(transfer, TransferState.Failed);
        Assert.Equal("grant revoked", failed.FailureReason);
        var stoppedAfter = failed.EndTime.ToDateTimeOffset() - revoked.RevokeTime.ToDateTimeOffset();
        Assert.True(stoppedAfter < TimeSpan.FromSeconds(2), $"stopped {stoppedAfter} after the revocation on the other replica");
        await call.EndsWithoutTrailerAsync();
    }

    [SkippableFact]
    public async Task A_revocation_announced_while_a_replica_was_not_listening_still_stops_its_downloads_once_it_listens_again()
    {
        var (a, b) = await ReplicasAsync();
        using var _ = a;
        using var __ = b;
        using var acme = a.As(Participant.Acme);
        using var initech = b.As(Participant.Initech);
        var (grant, call, transfer) = await DownloadRunningAsync(acme, initech);
        using var running = call;

        // Cut both replicas' listening connections, then revoke at once: the announcement finds nobody listening.
        await TerminateConnectionsAsync(Exchange.Server.Storage.PostgresEngine.ListenerName);

        await acme.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = grant.Name, Reason = "while deaf" });

        var failed = await initech.WaitForTransferAsync(transfer, TransferState.Failed);
        Assert.Equal("grant revoked", failed.FailureReason);
    }

    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_source_grant_revoked_on_one_replica_stops_a_download_of_the_derived_dataset_running_on_the_other(bool listening)
    {
        var (a, b) = await ReplicasAsync();
        using var _ = a;
        using var __ = b;
        var labs = new Participant("acme-labs", "provider", "consumer");
        using var acme = a.As(Participant.Acme);
        using var labsOnA = a.As(labs);
        using var initech = b.As(Participant.Initech);

        // acme's source → labs' product, under a grant whose descendants do not survive its revocation.
        var source = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        var product = await CatalogFixture.CreateAsync(labsOnA);
        await labsOnA.UploadAsync(product.Name, new MemoryStream(RandomNumberGenerator.GetBytes(64 * 65536)));
        var grant = await acme.ApproveAsync(await labsOnA.RequestAsync(source,
            terms: new Terms { Purposes = { "research" }, Derivation = new DerivationTerms { Allowed = true } }));
        await labsOnA.Lineage.DeclareDerivationAsync(new()
        {
            Dataset = product.Name,
            Sources = { new DerivationSource { Revision = source.Name + "/revisions/1", Grant = grant.Name } },
        });
        await labsOnA.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = product.Name });
        var buyer = await labsOnA.ApproveAsync(await initech.RequestAsync(product));
        using var call = initech.Transfers.Download(new DownloadRequest { Grant = buyer.Name, Purpose = "research" });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var transfer = call.ResponseStream.Current.Header.Transfer;
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));

        if (!listening)
        {
            // The announcement finds nobody listening: b learns of it as it listens again.
            await TerminateConnectionsAsync(Exchange.Server.Storage.PostgresEngine.ListenerName);
        }

        await acme.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = grant.Name, Reason = "stop everywhere" });

        var failed = await initech.WaitForTransferAsync(transfer, TransferState.Failed);
        Assert.Equal("stopped by lineage", failed.FailureReason);
        await call.EndsWithoutTrailerAsync();
    }

    [SkippableFact]
    public async Task A_suspension_on_one_replica_refuses_the_participant_on_the_other_and_stops_its_download_there_until_reinstated()
    {
        var (a, b) = await ReplicasAsync();
        using var _ = a;
        using var __ = b;
        using var acme = a.As(Participant.Acme);
        using var initech = b.As(Participant.Initech);
        var (_, call, transfer) = await DownloadRunningAsync(acme, initech);
        using var running = call;

        using var opsA = a.As(Participant.Operator);
        await opsA.Participants.SuspendParticipantAsync(new SuspendParticipantRequest { Name = "participants/initech", Reason = "fraud inquiry" });

        var refused = await WithinAsync(TimeSpan.FromSeconds(2), () => initech.Catalog.ListDatasetsAsync(new ListDatasetsRequest()).ResponseAsync,
            expectRefusal: true);
        Assert.Contains("fraud inquiry", refused!.Status.Detail, StringComparison.Ordinal);
        var stopped = await call.EndsWithoutTrailerAsync();
        Assert.Equal(StatusCode.PermissionDenied, stopped.StatusCode);
        var failed = (await acme.Transfers.GetTransferAsync(new GetTransferRequest { Name = transfer })).Transfer;
        Assert.Equal(TransferState.Failed, failed.State);
        Assert.Contains("fraud inquiry", failed.FailureReason, StringComparison.Ordinal);

        using var opsB = b.As(Participant.Operator);
        await opsB.Participants.ReinstateParticipantAsync(new ReinstateParticipantRequest { Name = "participants/initech" });
        using var initechOnA = a.As(Participant.Initech);
        await WithinAsync(TimeSpan.FromSeconds(2), () => initechOnA.Catalog.ListDatasetsAsync(new ListDatasetsRequest()).ResponseAsync,
            expectRefusal: false);
    }

    [SkippableFact]
    public async Task A_suspension_announced_while_a_replica_was_not_listening_reaches_it_once_it_listens_again()
    {
        var (a, b) = await ReplicasAsync();
        using var _ = a;
        using var __ = b;
        using var initech = b.As(Participant.Initech);
        await TerminateConnectionsAsync(Exchange.Server.Storage.PostgresEngine.ListenerName);

        using var ops = a.As(Participant.Operator);
        await ops.Participants.SuspendParticipantAsync(new SuspendParticipantRequest { Name = "participants/initech", Reason = "while deaf" });

        await WithinAsync(TimeSpan.FromSeconds(10), () => initech.Catalog.ListDatasetsAsync(new ListDatasetsRequest()).ResponseAsync,
            expectRefusal: true);
    }

    /// <summary>Calls until the call is refused as PERMISSION_DENIED (or succeeds), failing after <paramref name="limit"/>; returns the refusal.</summary>
    private static async Task<RpcException?> WithinAsync(TimeSpan limit, Func<Task> call, bool expectRefusal)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            RpcException? refusal = null;
            try
            {
                await call();
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.PermissionDenied)
            {
                refusal = ex;
            }

            if ((refusal is not null) == expectRefusal)
            {
                return refusal;
            }

            Assert.True(DateTime.UtcNow < deadline, $"still {(expectRefusal ? "accepted" : "refused")} after {limit}");
            await Task.Delay(20);
        }
    }

    [SkippableFact]
    public async Task A_replica_whose_database_connections_are_cut_goes_on_writing_on_new_ones()
    {
        var (a, b) = await ReplicasAsync();
        using var _ = a;
        using var __ = b;
        using var acme = a.As(Participant.Acme);
        await CatalogFixture.CreateAsync(acme, DatasetState.Listed);

        // As after a database restart or failover: every connection of the gateways is gone. A group commit
        // or a checkpoint signing caught on a cut connection fails, and is logged for the operator as it should.
        foreach (var replica in new[] { a, b })
        {
            replica.ExpectErrors(e => e.Is("Database", 20) || e.Is("CheckpointPublisher", 31));
        }

        await TerminateConnectionsAsync();

        // The writer finds its connection dead before a group starts and carries on over a new one;
        // readers whose pooled connections died read again on fresh ones.
        var database = a.Services.GetRequiredService<Exchange.Server.Storage.Database>();
        var entry = new Exchange.Server.Storage.AuditEntry("acme", "test.write", "datasets/x", Exchange.Server.Storage.Outcome.Success);
        var index = await database.WriteAsync(unit => unit.Record(entry), CancellationToken.None);

        using var auditor = b.As(Participant.Auditor);
        await auditor.CheckpointCoveringAsync(index + 1);
        var (exit, output, error) = await b.RunCliAsync(Participant.Auditor, "audit", "verify", "--trusted", _trusted);
        Assert.True(exit == 0, output + error);
    }

    [SkippableFact]
    public async Task A_replica_on_a_shared_database_without_a_configured_key_encryption_key_refuses_to_start()
    {
        var postgres = PostgresServer.Shared;
        var (exit, error) = await Tools.RunServerToExitAsync("Development",
            $"--Exchange:DataDirectory={Path.Combine(Path.GetTempPath(), "exchange-replica", Guid.NewGuid().ToString("N"))}",
            "--Exchange:Database:Kind=postgres", $"--Exchange:Database:ConnectionString={postgres.ConnectionString(postgres.CreateDatabase())}");

        // Each replica would otherwise generate a key of its own and be unable to read what the others stored.
        Assert.Equal(1, exit);
        Assert.Contains("needs key-encryption keys that every replica has", error, StringComparison.Ordinal);
    }

    /// <summary>A 4 MiB revision of <paramref name="acme"/>'s, granted to and being downloaded by <paramref name="initech"/>: its header and first chunk have arrived.</summary>
    private static async Task<(Grant Grant, AsyncServerStreamingCall<DownloadResponse> Call, string Transfer)> DownloadRunningAsync(
        ExchangeClient acme, ExchangeClient initech)
    {
        var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        await acme.UploadAsync(dataset.Name, new MemoryStream(RandomNumberGenerator.GetBytes(64 * 65536)));
        var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset));
        var call = initech.Transfers.Download(new DownloadRequest { Grant = grant.Name, Purpose = "research" });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var transfer = call.ResponseStream.Current.Header.Transfer;
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        return (grant, call, transfer);
    }

    /// <summary>Ends the matching server connections of this test's database, as a restart or failover would.</summary>
    private async Task TerminateConnectionsAsync(string? applicationName = null)
    {
        await using var admin = new Npgsql.NpgsqlConnection(_connectionString);
        await admin.OpenAsync();
        await using var cut = new Npgsql.NpgsqlCommand(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() " +
            "AND (CAST(@name AS TEXT) IS NULL OR application_name = @name)", admin);
        cut.Parameters.AddWithValue("name", (object?)applicationName ?? DBNull.Value);
        await cut.ExecuteNonQueryAsync();
    }

}
