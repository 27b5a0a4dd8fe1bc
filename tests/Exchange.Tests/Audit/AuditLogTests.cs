using Exchange.Server.Storage;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.Transparency;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Tests.Audit;

/// <summary>Every catalog decision lands in the signed log; proofs and checkpoints verify with the SDK.</summary>
public sealed class AuditLogTests : IDisposable
{
    private readonly ExchangeFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    private async Task<Dataset> CatalogStoryAsync()
    {
        using var acme = _factory.As(Participant.Acme);
        var dataset = await CatalogFixture.CreateAsync(acme, title: "Audited");
        await acme.Catalog.UpdateDatasetAsync(new UpdateDatasetRequest
        {
            Dataset = new Dataset { Name = dataset.Name, Title = "Audited data" },
            UpdateMask = new FieldMask { Paths = { "title" } },
        });
        await acme.UploadAsync(dataset.Name, new MemoryStream(CatalogFixture.SampleBytes), new() { MediaType = "text/csv" });
        await acme.Catalog.PublishDatasetAsync(new PublishDatasetRequest { Name = dataset.Name });

        using var initech = _factory.As(Participant.Initech);
        await Rpc.FailsWith(StatusCode.PermissionDenied, initech.Catalog.CreateDatasetAsync(new CreateDatasetRequest
        {
            Dataset = new Dataset { Title = "x", Classification = Classification.Public },
        }));
        using var globex = _factory.As(Participant.Globex);
        await Rpc.FailsWith(StatusCode.PermissionDenied, globex.Catalog.DelistDatasetAsync(new DelistDatasetRequest { Name = dataset.Name }));

        await acme.Catalog.DelistDatasetAsync(new DelistDatasetRequest { Name = dataset.Name, Reason = "superseded" });
        return dataset;
    }

    [Fact]
    public async Task Every_catalog_decision_and_denial_is_recorded_with_its_leaf()
    {
        var dataset = await CatalogStoryAsync();
        using var auditor = _factory.As(Participant.Auditor);

        var events = await auditor.AllEventsAsync();

        Assert.Equal(Enumerable.Range(0, 7).Select(i => (long)i), events.Select(e => e.Index));
        Assert.Equal(
            [
                ("acme", "dataset.create", AuditOutcome.Success),
                ("acme", "dataset.update", AuditOutcome.Success),
                ("acme", "revision.upload", AuditOutcome.Success),
                ("acme", "dataset.publish", AuditOutcome.Success),
                ("initech", "dataset.create", AuditOutcome.Denied),
                ("globex", "dataset.delist", AuditOutcome.Denied),
                ("acme", "dataset.delist", AuditOutcome.Success),
            ],
            events.Select(e => (e.Actor, e.Action, e.Outcome)));
        Assert.All(events.Where(e => e.Actor != "initech"), e => Assert.Equal(dataset.Name, e.Dataset));
        Assert.Equal("title", events[1].Details.Single(d => d.Key == "fields").Value);
        Assert.Equal("superseded", events[6].Details.Single(d => d.Key == "reason").Value);
        Assert.Contains("provider", events[4].Details.Single(d => d.Key == "reason").Value);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(CatalogFixture.SampleBytes)),
            events[2].Details.Single(d => d.Key == "sha256").Value);

        foreach (var e in events)
        {
            // The decoded view is the leaf; the leaf is a version 1 AuditRecord in canonical encoding.
            var record = AuditRecord.Parser.ParseFrom(e.Leaf);
            Assert.Equal(1u, record.Version);
            Assert.Equal((e.Actor, e.Action, e.Resource, e.Dataset, e.Outcome, e.Time), (record.Actor, record.Action, record.Resource, record.Dataset, record.Outcome, record.Time));
            Assert.Equal(e.Leaf, Google.Protobuf.ByteString.CopyFrom(Google.Protobuf.MessageExtensions.ToByteArray(record)));
            Assert.Equal(record.Details.OrderBy(d => d.Key, StringComparer.Ordinal), record.Details);
        }
    }

    [Fact]
    public async Task The_checkpoint_is_a_signed_note_over_the_root_of_every_leaf()
    {
        await CatalogStoryAsync();
        using var auditor = _factory.As(Participant.Auditor);
        var checkpoint = await auditor.CheckpointCoveringAsync(7);
        var events = await auditor.AllEventsAsync();

        var key = NoteVerifierKey.Parse(checkpoint.VerifierKey);
        var note = CheckpointNote.ParseVerified(checkpoint.Note, key);
        Assert.Equal(("exchange.local/audit", checkpoint.Size), (note.Origin, note.Size));
        Assert.Equal(checkpoint.RootHash.ToByteArray(), note.RootHash);
        Assert.Equal(MerkleTreeBuilder.RootOf(events.Take((int)note.Size).Select(e => Rfc6962.LeafHash(e.Leaf.Span))), note.RootHash);
        Assert.Matches("^exchange.local/audit\n7\n[A-Za-z0-9+/]{43}=\nlog-id [0-9a-f]{32}\n\n\u2014 exchange.local/audit [A-Za-z0-9+/]{91}=\n$", checkpoint.Note);
        // The log's id is signed, and the same as the field beside the note and the gateway's own.
        Assert.Equal((_factory.LogId(), _factory.LogId()), (note.LogId, checkpoint.LogId));

        // A note signed by another key, or altered by one byte, does not verify.
        var other = NoteVerifierKey.FromPublicKey("exchange.local/audit", new byte[32]);
        Assert.Throws<FormatException>(() => CheckpointNote.ParseVerified(checkpoint.Note, other));
        Assert.Throws<FormatException>(() => CheckpointNote.ParseVerified(checkpoint.Note.Replace("\n7\n", "\n8\n"), key));
    }

    [Fact]
    public async Task Inclusion_and_consistency_proofs_verify_for_every_index_and_every_pair_of_sizes()
    {
        using var acme = _factory.As(Participant.Acme);
        for (var i = 0; i < 19; i++)
        {
            await CatalogFixture.CreateAsync(acme);
        }

        using var auditor = _factory.As(Participant.Auditor);
        await auditor.CheckpointCoveringAsync(19);
        var hashes = (await auditor.AllEventsAsync()).Select(e => Rfc6962.LeafHash(e.Leaf.Span)).ToList();
        var roots = Enumerable.Range(0, hashes.Count + 1).Select(n => MerkleTreeBuilder.RootOf(hashes.Take(n))).ToList();

        for (var size = 1; size <= hashes.Count; size++)
        {
            for (var index = 0; index < size; index++)
            {
                var proof = await auditor.Audit.GetInclusionProofAsync(new GetInclusionProofRequest { Index = index, TreeSize = size });
                Assert.True(MerkleProofs.VerifyInclusion(index, size, hashes[index], proof.Hashes.Select(h => h.ToByteArray()).ToList(), roots[size]),
                    $"inclusion of {index} in {size}");
            }

            for (var first = 1; first <= size; first++)
            {
                var proof = await auditor.Audit.GetConsistencyProofAsync(new GetConsistencyProofRequest { FirstTreeSize = first, SecondTreeSize = size });
                Assert.True(MerkleProofs.VerifyConsistency(first, size, proof.Hashes.Select(h => h.ToByteArray()).ToList(), roots[first], roots[size]),
                    $"consistency {first} -> {size}");
            }
        }

        // tree_size 0 means the newest checkpoint.
        var latest = await auditor.Audit.GetInclusionProofAsync(new GetInclusionProofRequest { Index = 3 });
        Assert.True(latest.TreeSize >= 19);
    }

    [Fact]
    public async Task Each_participant_reads_only_its_share_and_its_proofs_verify_against_the_global_root()
    {
        await CatalogStoryAsync();
        using var globexDraft = _factory.As(Participant.Globex);
        await CatalogFixture.CreateAsync(globexDraft, title: "globex's own draft");

        async Task<string[]> Actions(Participant who)
        {
            using var client = _factory.As(who);
            return (await client.AllEventsAsync()).Select(e => $"{e.Actor}:{e.Action}").ToArray();
        }

        string[] all = ["acme:dataset.create", "acme:dataset.update", "acme:revision.upload", "acme:dataset.publish", "initech:dataset.create", "globex:dataset.delist", "acme:dataset.delist", "globex:dataset.create"];
        Assert.Equal(all, await Actions(Participant.Auditor));
        Assert.Equal(all, await Actions(Participant.Operator));
        // acme: everything about its dataset, including globex's denied attempt.
        Assert.Equal(["acme:dataset.create", "acme:dataset.update", "acme:revision.upload", "acme:dataset.publish", "globex:dataset.delist", "acme:dataset.delist"], await Actions(Participant.Acme));
        // globex: its own actions only.
        Assert.Equal(["globex:dataset.delist", "globex:dataset.create"], await Actions(Participant.Globex));
        Assert.Equal(["initech:dataset.create"], await Actions(Participant.Initech));
        Assert.Empty(await Actions(Participant.Umbrella));

        using var initech = _factory.As(Participant.Initech);
        var checkpoint = await initech.CheckpointCoveringAsync(8);
        var mine = Assert.Single(await initech.AllEventsAsync());
        var proof = await initech.Audit.GetInclusionProofAsync(new GetInclusionProofRequest { Index = mine.Index, TreeSize = checkpoint.Size });
        Assert.True(MerkleProofs.VerifyInclusion(mine.Index, checkpoint.Size, Rfc6962.LeafHash(mine.Leaf.Span),
            proof.Hashes.Select(h => h.ToByteArray()).ToList(), checkpoint.RootHash.ToByteArray()));
    }

    [Fact]
    public async Task Filters_select_by_dataset_participant_action_time_and_index()
    {
        var dataset = await CatalogStoryAsync();
        using var auditor = _factory.As(Participant.Auditor);
        var all = await auditor.AllEventsAsync();

        Assert.Equal(6, (await auditor.AllEventsAsync(new() { Dataset = dataset.Name })).Count);
        Assert.Equal(["globex"], (await auditor.AllEventsAsync(new() { Participant = "globex" })).Select(e => e.Actor));
        Assert.Equal(2, (await auditor.AllEventsAsync(new() { Action = "dataset.delist" })).Count);
        Assert.Equal([4L, 5L, 6L], (await auditor.AllEventsAsync(new() { StartIndex = 4 })).Select(e => e.Index));
        Assert.Equal(all.Skip(2).Select(e => e.Index), (await auditor.AllEventsAsync(new() { StartTime = all[2].Time })).Select(e => e.Index));
        Assert.Equal(all.Take(2).Select(e => e.Index), (await auditor.AllEventsAsync(new() { EndTime = all[2].Time })).Where(e => e.Time != all[2].Time).Select(e => e.Index).Take(2));

        var paged = await auditor.AllEventsAsync(new() { PageSize = 2 });
        Assert.Equal(all.Select(e => e.Index), paged.Select(e => e.Index));
    }

    [Theory]
    [InlineData("dataset", "nope")]
    [InlineData("participant", "Not A Participant")]
    [InlineData("action", "DROP TABLE")]
    [InlineData("start_index", "-1")]
    [InlineData("page_size", "-1")]
    public async Task Malformed_audit_filters_are_invalid_arguments(string field, string value)
    {
        var request = new ListAuditEventsRequest();
        switch (field)
        {
            case "dataset": request.Dataset = value; break;
            case "participant": request.Participant = value; break;
            case "action": request.Action = value; break;
            case "start_index": request.StartIndex = long.Parse(value); break;
            case "page_size": request.PageSize = int.Parse(value); break;
        }

        using var auditor = _factory.As(Participant.Auditor);
        var error = await Rpc.FailsWith(StatusCode.InvalidArgument, auditor.Audit.ListAuditEventsAsync(request));
        Assert.Contains(field, error.Status.Detail);
    }

    [Fact]
    public async Task Proofs_outside_the_log_are_invalid_arguments()
    {
        await CatalogStoryAsync();
        using var auditor = _factory.As(Participant.Auditor);
        await auditor.CheckpointCoveringAsync(7);

        await Rpc.FailsWith(StatusCode.InvalidArgument, auditor.Audit.GetInclusionProofAsync(new GetInclusionProofRequest { Index = 7, TreeSize = 7 }));
        await Rpc.FailsWith(StatusCode.InvalidArgument, auditor.Audit.GetInclusionProofAsync(new GetInclusionProofRequest { Index = -1, TreeSize = 6 }));
        await Rpc.FailsWith(StatusCode.InvalidArgument, auditor.Audit.GetInclusionProofAsync(new GetInclusionProofRequest { Index = 0, TreeSize = 1000 }));
        await Rpc.FailsWith(StatusCode.InvalidArgument, auditor.Audit.GetConsistencyProofAsync(new GetConsistencyProofRequest { FirstTreeSize = 0, SecondTreeSize = 6 }));
        await Rpc.FailsWith(StatusCode.InvalidArgument, auditor.Audit.GetConsistencyProofAsync(new GetConsistencyProofRequest { FirstTreeSize = 5, SecondTreeSize = 4 }));
    }

    [Fact]
    public async Task Watch_sends_the_past_then_new_events_as_they_commit()
    {
        await CatalogStoryAsync();
        using var auditor = _factory.As(Participant.Auditor);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var watch = auditor.Audit.WatchAuditEvents(new WatchAuditEventsRequest { StartIndex = 4 }, cancellationToken: cancel.Token);

        var received = new List<long>();
        var reader = watch.ResponseStream;
        for (var i = 0; i < 3; i++)
        {
            Assert.True(await reader.MoveNext(cancel.Token));
            received.Add(reader.Current.Event.Index);
        }

        using var acme = _factory.As(Participant.Acme);
        var created = await CatalogFixture.CreateAsync(acme);
        Assert.True(await reader.MoveNext(cancel.Token));
        Assert.Equal(created.Name, reader.Current.Event.Resource);
        received.Add(reader.Current.Event.Index);
        Assert.Equal([4L, 5L, 6L, 7L], received);
    }

    [Fact]
    public async Task A_write_that_fails_leaves_neither_its_effect_nor_its_record_and_concurrent_writes_get_contiguous_indices()
    {
        _ = _factory.Server;
        var database = _factory.Services.GetRequiredService<Database>();
        var entry = new AuditEntry("acme", "test.write", "datasets/x", Exchange.Server.Storage.Outcome.Success);

        await Assert.ThrowsAsync<InvalidOperationException>(() => database.WriteAsync<long>(context =>
        {
            context.Command("INSERT INTO server_secrets (name, value) VALUES ('half-done', @b)").With("@b", new byte[1]).ExecuteNonQuery();
            context.Record(entry);
            throw new InvalidOperationException("fails after recording");
        }, CancellationToken.None));

        var writes = Enumerable.Range(0, 300).Select(i => database.WriteAsync(context => context.Record(entry with { Resource = $"datasets/x{i}" }), CancellationToken.None));
        var indices = await Task.WhenAll(writes);

        Assert.Equal(Enumerable.Range(0, 300).Select(i => (long)i), indices.Order());
        Assert.Equal(0L, await database.ReadAsync(c => (long)c.Command("SELECT COUNT(*) FROM server_secrets WHERE name = 'half-done'").ExecuteScalar()!, CancellationToken.None));
        using var auditor = _factory.As(Participant.Auditor);
        var checkpoint = await auditor.CheckpointCoveringAsync(300);
        var events = await auditor.AllEventsAsync();
        Assert.Equal(300, events.Count);
        Assert.Equal(MerkleTreeBuilder.RootOf(events.Select(e => Rfc6962.LeafHash(e.Leaf.Span))), checkpoint.RootHash.ToByteArray());
    }

    [Fact]
    public async Task A_unit_that_swallows_a_failed_append_is_rolled_back_whole_and_the_tree_stays_consistent()
    {
        _ = _factory.Server;
        var database = _factory.Services.GetRequiredService<Database>();
        var entry = new AuditEntry("acme", "test.write", "datasets/x", Exchange.Server.Storage.Outcome.Success);
        await database.WriteAsync(context => context.Record(entry), CancellationToken.None);

        // The next leaf's node id is taken, so the append fails part-way; the unit hides the error.
        await Assert.ThrowsAnyAsync<Exception>(() => database.WriteAsync(context =>
        {
            context.Command("INSERT INTO server_secrets (name, value) VALUES ('swallowed', @b)").With("@b", new byte[1]).ExecuteNonQuery();
            context.Command("INSERT INTO audit_nodes (id, hash) VALUES (@id, @b)").With("@id", context.TreeSize).With("@b", new byte[1]).ExecuteNonQuery();
            try
            {
                context.Record(entry);
            }
            catch (System.Data.Common.DbException)
            {
            }

            return 0;
        }, CancellationToken.None));

        await database.WriteAsync(context => context.Record(entry), CancellationToken.None);
        Assert.Equal(0L, await database.ReadAsync(c => (long)c.Command("SELECT COUNT(*) FROM server_secrets WHERE name = 'swallowed'").ExecuteScalar()!, CancellationToken.None));
        using var auditor = _factory.As(Participant.Auditor);
        var checkpoint = await auditor.CheckpointCoveringAsync(2);
        var events = await auditor.AllEventsAsync();
        Assert.Equal([0L, 1L], events.Select(e => e.Index));
        Assert.Equal(MerkleTreeBuilder.RootOf(events.Select(e => Rfc6962.LeafHash(e.Leaf.Span))), checkpoint.RootHash.ToByteArray());
    }

    [Fact]
    public void Identical_records_get_different_leaves_so_sibling_hashes_reveal_nothing()
    {
        var entry = new AuditEntry("acme", "test.write", "datasets/x", Exchange.Server.Storage.Outcome.Success);
        var time = DateTimeOffset.UtcNow;
        Assert.NotEqual(entry.Encode(time), entry.Encode(time));
        Assert.Equal(16, AuditRecord.Parser.ParseFrom(entry.Encode(time)).Nonce.Length);
    }

    [Fact]
    public async Task After_a_restart_the_log_continues_consistently_with_its_earlier_checkpoints()
    {
        var directory = Path.Combine(Path.GetTempPath(), "exchange-tests", Guid.NewGuid().ToString("N"));
        Checkpoint before;
        using (var first = ExchangeFactory.Over(directory))
        {
            using var acme = first.As(Participant.Acme);
            for (var i = 0; i < 5; i++)
            {
                await CatalogFixture.CreateAsync(acme);
            }

            using var auditor = first.As(Participant.Auditor);
            before = await auditor.CheckpointCoveringAsync(5);
        }

        using (var second = ExchangeFactory.Over(directory, keepData: false))
        {
            using var acme = second.As(Participant.Acme);
            for (var i = 0; i < 6; i++)
            {
                await CatalogFixture.CreateAsync(acme);
            }

            using var auditor = second.As(Participant.Auditor);
            var after = await auditor.CheckpointCoveringAsync(11);
            var proof = await auditor.Audit.GetConsistencyProofAsync(new GetConsistencyProofRequest { FirstTreeSize = before.Size, SecondTreeSize = after.Size });
            Assert.True(MerkleProofs.VerifyConsistency(before.Size, after.Size, proof.Hashes.Select(h => h.ToByteArray()).ToList(),
                before.RootHash.ToByteArray(), after.RootHash.ToByteArray()));
            Assert.Equal(11, (await auditor.AllEventsAsync()).Count);
        }
    }
}
