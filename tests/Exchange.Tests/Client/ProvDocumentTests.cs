using System.Text.Json.Nodes;
using Exchange.Client.Lineage;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Tests.Client;

/// <summary>The lineage graph in W3C PROV-O: entities, their derivation, the activity that generated them, and who they are attributed to.</summary>
public sealed class ProvDocumentTests
{
    [Fact]
    public void A_derived_dataset_is_an_entity_derived_from_a_revision_generated_by_an_activity_that_used_it()
    {
        var lineage = new GetLineageResponse
        {
            Nodes =
            {
                new LineageNode { Dataset = "datasets/forecasts", Provider = "acme-labs", Title = "Tide forecasts", LineageStatus = LineageStatus.Flagged, LineageReason = "grants/g1 was revoked" },
                new LineageNode { Dataset = "datasets/gauges", Provider = "acme", Title = "Tide gauges" },
            },
            Derivations =
            {
                new Derivation
                {
                    Name = "datasets/forecasts/derivations/d1",
                    Dataset = "datasets/forecasts",
                    SourceRevision = "datasets/gauges/revisions/1",
                    Grant = "grants/g1",
                    DeclaredBy = "acme-labs",
                    CreateTime = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero)),
                    State = DerivationState.Flagged,
                    FlagReason = "grants/g1 was revoked",
                },
            },
        };

        var document = ProvDocument.From(lineage, new Uri("https://exchange.example"));
        Assert.Equal("http://www.w3.org/ns/prov#", (string?)document["@context"]!["prov"]);
        Assert.Equal("https://exchange.example/", (string?)document["@context"]!["@base"]);
        var graph = document["@graph"]!.AsArray().Select(n => n!.AsObject()).ToDictionary(n => (string)n["@id"]!);

        var forecasts = graph["datasets/forecasts"];
        Assert.Equal("prov:Entity", (string?)forecasts["@type"]);
        Assert.Equal("participants/acme-labs", (string?)forecasts["prov:wasAttributedTo"]!["@id"]);
        Assert.Equal("datasets/gauges/revisions/1", (string?)forecasts["prov:wasDerivedFrom"]![0]!["@id"]);
        Assert.Equal("datasets/forecasts/derivations/d1", (string?)forecasts["prov:wasGeneratedBy"]![0]!["@id"]);
        Assert.Equal("FLAGGED", (string?)forecasts["exchange:lineageStatus"]);

        Assert.Equal("datasets/gauges", (string?)graph["datasets/gauges/revisions/1"]["prov:specializationOf"]!["@id"]);
        var activity = graph["datasets/forecasts/derivations/d1"];
        Assert.Equal("prov:Activity", (string?)activity["@type"]);
        Assert.Equal("datasets/gauges/revisions/1", (string?)activity["prov:used"]!["@id"]);
        Assert.Equal("participants/acme-labs", (string?)activity["prov:wasAssociatedWith"]!["@id"]);
        Assert.Equal("2026-12-01T12:00:00.000000Z", (string?)activity["prov:endedAtTime"]);
        Assert.Equal("grants/g1", (string?)activity["exchange:grant"]!["@id"]);
        Assert.Equal("prov:Agent", (string?)graph["participants/acme"]["@type"]);
        Assert.Equal("prov:Agent", (string?)graph["participants/acme-labs"]["@type"]);
        Assert.IsType<JsonObject>(graph["datasets/gauges"]);
    }
}
