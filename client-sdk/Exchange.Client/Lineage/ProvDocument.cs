using System.Globalization;
using System.Text.Json.Nodes;
using Exchange.V1;

namespace Exchange.Client.Lineage;

/// <summary>
/// A lineage graph as W3C PROV-O in JSON-LD: each dataset a <c>prov:Entity</c> attributed to its
/// provider (<c>prov:wasAttributedTo</c>) and derived from the revisions it names
/// (<c>prov:wasDerivedFrom</c>); each revision an entity that is a <c>prov:specializationOf</c> its
/// dataset; each declared derivation a <c>prov:Activity</c> that used the revision, was associated
/// with the declaring provider and generated the dataset (<c>prov:wasGeneratedBy</c>), with the
/// grant that allowed it and its state as Exchange terms.
/// </summary>
public static class ProvDocument
{
    /// <summary>The IRI prefix of Exchange's own terms (grant, state, lineage status), as named in protos/exchange/v1/lineage.proto.</summary>
    public const string ExchangeNamespace = "urn:exchange:v1:";

    /// <summary>The graph of <paramref name="lineage"/>, resource names under <paramref name="gateway"/> (e.g. https://exchange.example/).</summary>
    public static JsonObject From(GetLineageResponse lineage, Uri gateway)
    {
        ArgumentNullException.ThrowIfNull(lineage);
        ArgumentNullException.ThrowIfNull(gateway);
        var graph = new JsonArray();
        var agents = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var node in lineage.Nodes)
        {
            var entity = new JsonObject
            {
                ["@id"] = node.Dataset,
                ["@type"] = "prov:Entity",
            };
            if (node.Title.Length > 0)
            {
                entity["dcterms:title"] = node.Title;
            }

            if (node.Provider.Length > 0)
            {
                entity["prov:wasAttributedTo"] = Ref($"participants/{node.Provider}");
                agents.Add(node.Provider);
            }

            if (node.LineageStatus != LineageStatus.Unspecified)
            {
                entity["exchange:lineageStatus"] = node.LineageStatus.ToString().ToUpperInvariant();
                if (node.LineageReason.Length > 0)
                {
                    entity["exchange:lineageReason"] = node.LineageReason;
                }
            }

            var edges = lineage.Derivations.Where(d => d.Dataset == node.Dataset).ToList();
            if (edges.Count > 0)
            {
                entity["prov:wasDerivedFrom"] = new JsonArray([.. edges.Select(d => (JsonNode)Ref(d.SourceRevision))]);
                entity["prov:wasGeneratedBy"] = new JsonArray([.. edges.Select(d => (JsonNode)Ref(d.Name))]);
            }

            graph.Add(entity);
        }

        foreach (var revision in lineage.Derivations.Select(d => d.SourceRevision).Distinct(StringComparer.Ordinal))
        {
            graph.Add(new JsonObject
            {
                ["@id"] = revision,
                ["@type"] = "prov:Entity",
                ["prov:specializationOf"] = Ref(revision[..revision.IndexOf("/revisions/", StringComparison.Ordinal)]),
            });
        }

        foreach (var derivation in lineage.Derivations)
        {
            var activity = new JsonObject
            {
                ["@id"] = derivation.Name,
                ["@type"] = "prov:Activity",
                ["prov:used"] = Ref(derivation.SourceRevision),
                ["prov:wasAssociatedWith"] = Ref($"participants/{derivation.DeclaredBy}"),
                ["prov:endedAtTime"] = Time(derivation.CreateTime),
                ["exchange:grant"] = Ref(derivation.Grant),
                ["exchange:state"] = derivation.State.ToString().ToUpperInvariant(),
            };
            if (derivation.FlagReason.Length > 0)
            {
                activity["exchange:flagReason"] = derivation.FlagReason;
                activity["exchange:flagTime"] = Time(derivation.FlagTime);
            }

            agents.Add(derivation.DeclaredBy);
            graph.Add(activity);
        }

        foreach (var agent in agents)
        {
            graph.Add(new JsonObject { ["@id"] = $"participants/{agent}", ["@type"] = "prov:Agent" });
        }

        return new JsonObject
        {
            ["@context"] = new JsonObject
            {
                ["@base"] = gateway.ToString().TrimEnd('/') + "/",
                ["prov"] = "http://www.w3.org/ns/prov#",
                ["dcterms"] = "http://purl.org/dc/terms/",
                ["xsd"] = "http://www.w3.org/2001/XMLSchema#",
                ["exchange"] = ExchangeNamespace,
                ["prov:endedAtTime"] = new JsonObject { ["@type"] = "xsd:dateTime" },
            },
            ["@graph"] = graph,
        };
    }

    private static JsonObject Ref(string id) => new() { ["@id"] = id };

    private static string Time(Google.Protobuf.WellKnownTypes.Timestamp? time) =>
        time is null ? "" : time.ToDateTimeOffset().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}
