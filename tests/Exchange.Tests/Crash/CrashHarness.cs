using System.Collections.Concurrent;
using System.Security.Cryptography;
using Exchange.Client;
using Exchange.Client.Transfers;
using Exchange.Tests.Access;
using Exchange.Tests.Audit;
using Exchange.Tests.Infrastructure;
using Exchange.V1;
using Grpc.Core;
using Microsoft.Data.Sqlite;

namespace Exchange.Tests.Crash;

/// <summary>
/// Kills the real gateway (SIGKILL) at random moments while uploads, approvals, revocations and
/// downloads run against it, restarts it over the same data directory, and checks after every
/// kill that what was answered OK survived and nothing half-done is visible: acknowledged
/// revisions, grants and revocations are there; every visible revision downloads whole and
/// matches its SHA-256; every COMPLETED transfer sent all its bytes and has a verifiable receipt;
/// no transfer is left STARTED, and those the killed gateway was streaming resume to completion;
/// SQLite's integrity check passes; and the audit log verifies, consistent with every checkpoint
/// trusted before earlier kills. Downloads are priced per transfer: after every kill the ledger
/// balances, every completed transfer (every acknowledged one among them) is charged exactly once
/// and nothing else is, and at the end the consumer's statement verifies against the log.
/// </summary>
internal sealed class CrashHarness(int seed, Action<string> log) : IAsyncDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "exchange-crash", Guid.NewGuid().ToString("N"));
    private readonly string _trusted = Path.Combine(Path.GetTempPath(), $"exchange-crash-trusted-{Guid.NewGuid():N}.json");
    private readonly Random _random = new(seed);
    private readonly ConcurrentQueue<(string Name, string Sha256)> _ackedRevisions = new();
    private readonly ConcurrentQueue<string> _ackedGrants = new();
    private readonly ConcurrentQueue<string> _ackedRevocations = new();
    private readonly ConcurrentQueue<string> _ackedTransfers = new();
    private int _resumedOrphans;
    private readonly Dictionary<object, int> _checkedUpTo = [];
    private readonly HashSet<string> _verifiedRevisions = [];
    private readonly List<string> _datasets = [];
    private readonly List<string> _priced = [];
    private GatewayProcess? _gateway;

    private GatewayProcess Gateway => _gateway ??= new GatewayProcess(_data, log, "--Exchange:Limits:CallsPerSecond=0",
        "--Exchange:Transfers:ChunkSize=65536", "--Exchange:Audit:CheckpointInterval=00:00:00.100");

    public async Task RunAsync(int kills)
    {
        for (var round = 1; round <= kills; round++)
        {
            await Gateway.StartAsync();
            await CheckAsync(round - 1);
            using var acme = Client(Participant.Acme);
            var dataset = (await acme.Catalog.CreateDatasetAsync(new CreateDatasetRequest
            {
                Dataset = new Dataset { Title = $"round {round}", Classification = Classification.Internal },
            })).Dataset.Name;
            _datasets.Add(dataset);
            await acme.UploadAsync(dataset, new MemoryStream(RandomNumberGenerator.GetBytes(1000)));
            await acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset });

            // Downloads are of a dataset of their own, priced per transfer, so every completed one is a charge.
            var priced = (await acme.Catalog.CreateDatasetAsync(new CreateDatasetRequest
            {
                Dataset = new Dataset { Title = $"round {round}, priced", Classification = Classification.Internal },
            })).Dataset.Name;
            await acme.UploadAsync(priced, new MemoryStream(RandomNumberGenerator.GetBytes(1000)));
            await acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = priced });
            var offer = (await acme.Pricing.CreateOfferAsync(new CreateOfferRequest
            {
                Parent = priced,
                Offer = new Offer { Kind = OfferKind.PerTransfer, Price = new Money { Currency = "EUR", AmountMinor = 25 } },
            })).Offer.Name;
            _priced.Add(priced);

            using var stop = new CancellationTokenSource();
            var workers = new[] { UploadsAsync(dataset, stop.Token), AccessAsync(dataset, stop.Token), DownloadsAsync(priced, offer, stop.Token) };
            await Task.Delay(_random.Next(150, 1500));
            await Gateway.KillAsync();
            await stop.CancelAsync();
            await Task.WhenAll(workers);
            IntegrityCheck();
            log($"kill {round}: {_ackedRevisions.Count} revisions, {_ackedGrants.Count} grants, {_ackedRevocations.Count} revocations, " +
                $"{_ackedTransfers.Count} downloads acknowledged, {_resumedOrphans} orphaned transfers resumed so far");
        }

        await Gateway.StartAsync();
        await CheckAsync(kills);
        var (exit, output, error) = await Gateway.RunCliAsync(Participant.Initech, "billing", "verify", "--period",
            DateTime.UtcNow.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture), "--trusted", _trusted);
        Assert.True(exit == 0, $"the consumer's statement does not verify: {output}{error}");
    }

    public async ValueTask DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        SqliteConnection.ClearAllPools();
        File.Delete(_trusted);
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    private async Task UploadsAsync(string dataset, CancellationToken stop)
    {
        using var acme = Client(Participant.Acme);
        while (!stop.IsCancellationRequested)
        {
            var content = RandomNumberGenerator.GetBytes(Random.Shared.Next(1, 600_000));
            try
            {
                var revision = await acme.UploadAsync(dataset, new MemoryStream(content), cancellationToken: stop);
                _ackedRevisions.Enqueue((revision.Name, Convert.ToHexStringLower(SHA256.HashData(content))));
            }
            catch (Exception ex) when (ex is RpcException or OperationCanceledException or IOException or HttpRequestException)
            {
                return;
            }
        }
    }

    private async Task AccessAsync(string dataset, CancellationToken stop)
    {
        using var acme = Client(Participant.Acme);
        using var umbrella = Client(Participant.Umbrella);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var request = (await umbrella.Access.RequestAccessAsync(new RequestAccessRequest { Dataset = dataset, Purpose = "research" }, cancellationToken: stop)).AccessRequest;
                var grant = (await acme.Access.ApproveAccessRequestAsync(new ApproveAccessRequestRequest { Name = request.Name }, cancellationToken: stop)).Grant;
                _ackedGrants.Enqueue(grant.Name);
                await acme.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = grant.Name, Reason = "crash test" }, cancellationToken: stop);
                _ackedRevocations.Enqueue(grant.Name);
            }
            catch (Exception ex) when (ex is RpcException or OperationCanceledException or IOException or HttpRequestException)
            {
                return;
            }
        }
    }

    private async Task DownloadsAsync(string dataset, string offer, CancellationToken stop)
    {
        using var acme = Client(Participant.Acme);
        using var initech = Client(Participant.Initech);
        try
        {
            var request = (await initech.Access.RequestAccessAsync(new RequestAccessRequest { Dataset = dataset, Purpose = "research", Offer = offer },
                cancellationToken: stop)).AccessRequest;
            var grant = (await acme.Access.ApproveAccessRequestAsync(new ApproveAccessRequestRequest { Name = request.Name }, cancellationToken: stop)).Grant;
            _ackedGrants.Enqueue(grant.Name);
            var key = await initech.PublishedLogKeyAsync(stop);
            while (!stop.IsCancellationRequested)
            {
                var (header, bytes, trailer) = await initech.DownloadAllAsync(grant.Name, cancellationToken: stop);
                if (Convert.ToHexStringLower(SHA256.HashData(bytes)) != Convert.ToHexStringLower(header.Sha256.Span))
                {
                    throw new InvalidOperationException($"{header.Transfer} delivered bytes that do not match {header.Revision}");
                }

                var verified = ReceiptVerifier.Verify(trailer.Receipt, AccessFixture.Expected(grant.Name, header, bytes), key);
                if (!verified.Succeeded)
                {
                    throw new InvalidOperationException($"{header.Transfer}: {verified.Message}");
                }

                _ackedTransfers.Enqueue(header.Transfer);
            }
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException or IOException or HttpRequestException)
        {
        }
    }

    private async Task CheckAsync(int kills)
    {
        using var acme = Client(Participant.Acme);
        using var globex = Client(new Participant("globex-check", "consumer"));
        using var umbrella = Client(Participant.Umbrella);
        using var initech = Client(Participant.Initech);

        foreach (var (name, sha) in ToCheck(_ackedRevisions))
        {
            var revision = (await acme.Catalog.GetRevisionAsync(new GetRevisionRequest { Name = name })).Revision;
            Assert.True(Convert.ToHexStringLower(revision.Sha256.Span) == sha, $"after kill {kills}: {name} changed");
        }

        // Every visible revision is whole: it downloads completely and matches its SHA-256.
        foreach (var dataset in _datasets)
        {
            var revisions = (await acme.Catalog.ListRevisionsAsync(new ListRevisionsRequest { Parent = dataset, PageSize = 500 })).Revisions
                .Where(r => !_verifiedRevisions.Contains(r.Name)).ToList();
            if (revisions.Count == 0)
            {
                continue;
            }

            var request = (await globex.Access.RequestAccessAsync(new RequestAccessRequest { Dataset = dataset, Purpose = "check" })).AccessRequest;
            var grant = (await acme.Access.ApproveAccessRequestAsync(new ApproveAccessRequestRequest { Name = request.Name })).Grant;
            foreach (var revision in revisions)
            {
                var (_, bytes, _) = await globex.DownloadAllAsync(grant.Name, purpose: "check", revision: revision.Name);
                Assert.True(SHA256.HashData(bytes).AsSpan().SequenceEqual(revision.Sha256.Span), $"after kill {kills}: {revision.Name} is not whole");
                _verifiedRevisions.Add(revision.Name);
            }

            await acme.Access.RevokeGrantAsync(new RevokeGrantRequest { Name = grant.Name, Reason = "checked" });
        }

        var grants = ToCheck(_ackedGrants);
        foreach (var grant in grants)
        {
            await acme.Access.GetGrantAsync(new GetGrantRequest { Name = grant });
        }

        foreach (var grant in ToCheck(_ackedRevocations))
        {
            var state = (await acme.Access.GetGrantAsync(new GetGrantRequest { Name = grant })).Grant.State;
            Assert.True(state == GrantState.Revoked, $"after kill {kills}: the acknowledged revocation of {grant} is lost ({state})");
        }

        var acknowledged = ToCheck(_ackedTransfers);
        foreach (var transfer in acknowledged)
        {
            var state = (await initech.Transfers.GetTransferAsync(new GetTransferRequest { Name = transfer })).Transfer.State;
            Assert.True(state == TransferState.Completed, $"after kill {kills}: the acknowledged download {transfer} is {state}");
        }

        CheckLedger(kills, acknowledged);

        // Nothing is COMPLETED that did not send every byte and log it.
        var key = await acme.PublishedLogKeyAsync();
        foreach (var grant in grants)
        {
            var transfers = (await acme.Transfers.ListTransfersAsync(new ListTransfersRequest { Grant = grant, PageSize = 500 })).Transfers;
            // Nothing stays STARTED across a crash: what the killed gateway was streaming is failed on restart,
            // and resumes under the usual checks instead of holding a counted transfer forever.
            Assert.True(transfers.All(t => t.State != TransferState.Started),
                $"after kill {kills}: {string.Join(", ", transfers.Where(t => t.State == TransferState.Started).Select(t => t.Name))} still STARTED after the restart");
            foreach (var orphan in transfers.Where(t => t.FailureReason == "the gateway serving it stopped" && t.Consumer == Participant.Initech.Id).Take(2))
            {
                var grantState = (await acme.Access.GetGrantAsync(new GetGrantRequest { Name = grant })).Grant.State;
                if (grantState is GrantState.Revoked or GrantState.Expired)
                {
                    continue;
                }

                var offset = Math.Max(0, orphan.BytesSent - Exchange.Server.Transfers.TransferStore.ResumeSlack);
                var (header, bytes, trailer) = await initech.DownloadAllAsync(grant, purpose: orphan.Purpose, offset: offset, transfer: orphan.Name);
                Assert.True(offset > 0 || SHA256.HashData(bytes).AsSpan().SequenceEqual(header.Sha256.Span),
                    $"after kill {kills}: the resumed orphan {orphan.Name} delivered other bytes");
                var resumed = ReceiptVerifier.Verify(trailer.Receipt,
                    new ExpectedTransfer(orphan.Name, grant, header.Revision, header.SizeBytes, header.Sha256.ToByteArray()), key);
                Assert.True(resumed.Succeeded, $"after kill {kills}: the resumed orphan {orphan.Name} has no valid receipt: {resumed.Message}");
                _resumedOrphans++;
            }

            foreach (var transfer in transfers.Where(t => t.State == TransferState.Completed))
            {
                Assert.True(transfer.BytesSent == transfer.SizeBytes, $"after kill {kills}: {transfer.Name} is COMPLETED after {transfer.BytesSent} of {transfer.SizeBytes} bytes");
                var receipt = (await acme.Transfers.GetTransferAsync(new GetTransferRequest { Name = transfer.Name })).Transfer.Receipt;
                var revision = (await acme.Catalog.GetRevisionAsync(new GetRevisionRequest { Name = transfer.Revision })).Revision;
                var expected = new ExpectedTransfer(transfer.Name, grant, transfer.Revision, transfer.SizeBytes, revision.Sha256.ToByteArray());
                var verified = receipt is null ? null : ReceiptVerifier.Verify(receipt, expected, key);
                Assert.True(verified is { Succeeded: true }, $"after kill {kills}: {transfer.Name} has no valid receipt: {verified?.Message}");
            }
        }

        var (exit, output, error) = await Gateway.RunCliAsync(Participant.Auditor, "audit", "verify", "--trusted", _trusted);
        Assert.True(exit == 0, $"after kill {kills}: the audit log does not verify: {output}{error}");
    }

    /// <summary>
    /// What was acknowledged since the last check, and a random sample of 50 earlier ones: each
    /// check looks at everything new and keeps looking back, without growing with the whole history.
    /// </summary>
    private List<T> ToCheck<T>(ConcurrentQueue<T> acknowledged)
    {
        var all = acknowledged.ToArray();
        var from = _checkedUpTo.GetValueOrDefault(acknowledged);
        _checkedUpTo[acknowledged] = all.Length;
        return [.. all[from..], .. all[..from].OrderBy(_ => _random.Next()).Take(50)];
    }

    /// <summary>
    /// The ledger balances; every completed transfer of a priced dataset has exactly one usage record and
    /// every transfer usage record a completed transfer; no acknowledged download's charge is lost.
    /// </summary>
    private void CheckLedger(int kills, List<string> acknowledged)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_data, "exchange.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        long Scalar(string sql)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            return Convert.ToInt64(command.ExecuteScalar() ?? 0L, System.Globalization.CultureInfo.InvariantCulture);
        }

        Assert.True(Scalar("SELECT COUNT(*) FROM (SELECT currency FROM ledger_entries GROUP BY currency HAVING SUM(amount_minor) <> 0)") == 0,
            $"after kill {kills}: the ledger does not balance");
        var priced = string.Join(", ", _priced.Select(d => $"'{d["datasets/".Length..]}'"));
        Assert.True(Scalar($"""
            SELECT COUNT(*) FROM transfers t WHERE t.state = 2 AND t.dataset_id IN ({priced})
              AND (SELECT COUNT(*) FROM usage_records u WHERE u.resource = 'transfers/' || t.id) <> 1
            """) == 0, $"after kill {kills}: a completed transfer is not charged exactly once");
        Assert.True(Scalar("""
            SELECT COUNT(*) FROM usage_records u WHERE u.resource LIKE 'transfers/%'
              AND NOT EXISTS (SELECT 1 FROM transfers t WHERE 'transfers/' || t.id = u.resource AND t.state = 2)
            """) == 0, $"after kill {kills}: a charge has no completed transfer");
        foreach (var transfer in acknowledged)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM usage_records WHERE id = @id";
            command.Parameters.AddWithValue("@id", $"transfer-{transfer["transfers/".Length..]}");
            Assert.True(Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 1,
                $"after kill {kills}: the acknowledged download {transfer} is not charged exactly once");
        }
    }

    private void IntegrityCheck()
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_data, "exchange.db")};Mode=ReadWrite;Pooling=False");
        connection.Open();
        using var check = connection.CreateCommand();
        check.CommandText = "PRAGMA integrity_check";
        Assert.Equal("ok", check.ExecuteScalar());
    }

    private ExchangeClient Client(Participant participant) => Gateway.Client(participant);
}
