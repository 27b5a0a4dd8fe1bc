using System.Text.Json;
using Exchange.Transparency;

namespace Exchange.Tests.Transparency;

/// <summary>
/// The library's proof verification against public RFC 6962 vectors (TestData/merkle, from
/// transparency-dev/merkle; see its README): every case must agree with its wantErr.
/// </summary>
public sealed class MerkleVectorTests
{
    private static readonly string Root = Path.Combine(AppContext.BaseDirectory, "TestData", "merkle");

    private static byte[][] Hashes(JsonElement proof) =>
        proof.ValueKind == JsonValueKind.Null ? [] : proof.EnumerateArray().Select(p => Convert.FromBase64String(p.GetString()!)).ToArray();

    /// <summary>The vectors use uint64; a value beyond int64 (our wire type) becomes -1, which is never valid.</summary>
    private static long Signed(JsonElement value) => value.GetUInt64() is var v && v <= long.MaxValue ? (long)v : -1;

    public static TheoryData<string> InclusionCases() => Cases("inclusion");

    public static TheoryData<string> ConsistencyCases() => Cases("consistency");

    private static TheoryData<string> Cases(string kind)
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Root, kind), "*.json", SearchOption.AllDirectories).Order())
        {
            data.Add(Path.GetRelativePath(Root, file));
        }

        return data;
    }

    [Fact]
    public void All_196_vector_files_are_present()
    {
        Assert.Equal(196, InclusionCases().Count + ConsistencyCases().Count);
    }

    [Theory]
    [MemberData(nameof(InclusionCases))]
    public void Inclusion_vector(string file)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, file)));
        var c = json.RootElement;
        var ok = MerkleProofs.VerifyInclusion(Signed(c.GetProperty("leafIdx")), Signed(c.GetProperty("treeSize")),
            Convert.FromBase64String(c.GetProperty("leafHash").GetString()!), Hashes(c.GetProperty("proof")),
            Convert.FromBase64String(c.GetProperty("root").GetString()!));
        Assert.Equal(!c.GetProperty("wantErr").GetBoolean(), ok);
    }

    [Theory]
    [MemberData(nameof(ConsistencyCases))]
    public void Consistency_vector(string file)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, file)));
        var c = json.RootElement;
        var ok = MerkleProofs.VerifyConsistency(Signed(c.GetProperty("size1")), Signed(c.GetProperty("size2")),
            Hashes(c.GetProperty("proof")), Convert.FromBase64String(c.GetProperty("root1").GetString()!),
            Convert.FromBase64String(c.GetProperty("root2").GetString()!));
        Assert.Equal(!c.GetProperty("wantErr").GetBoolean(), ok);
    }

    [Fact]
    public void Sample_leaves_give_the_published_roots_and_proofs()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "leaves.json")));
        var d = json.RootElement;
        var leaves = d.GetProperty("leaves").EnumerateArray().Select(l => Convert.FromHexString(l.GetString()!)).ToArray();
        var roots = d.GetProperty("roots").EnumerateArray().Select(r => Convert.FromHexString(r.GetString()!)).ToArray();

        var builder = new MerkleTreeBuilder();
        Assert.Equal(roots[0], builder.Root());
        for (var i = 0; i < leaves.Length; i++)
        {
            Assert.Equal(d.GetProperty("leafHashes")[i].GetString(), Convert.ToHexStringLower(Rfc6962.LeafHash(leaves[i])));
            builder.AddLeaf(leaves[i]);
            Assert.Equal(roots[i + 1], builder.Root());
        }

        foreach (var c in d.GetProperty("inclusion").EnumerateArray())
        {
            Assert.True(MerkleProofs.VerifyInclusion(c.GetProperty("leafIdx").GetInt64(), c.GetProperty("treeSize").GetInt64(),
                Convert.FromHexString(c.GetProperty("leafHash").GetString()!),
                c.GetProperty("proof").EnumerateArray().Select(p => Convert.FromHexString(p.GetString()!)).ToArray(),
                Convert.FromHexString(c.GetProperty("root").GetString()!)));
        }

        foreach (var c in d.GetProperty("consistency").EnumerateArray())
        {
            Assert.True(MerkleProofs.VerifyConsistency(c.GetProperty("size1").GetInt64(), c.GetProperty("size2").GetInt64(),
                c.GetProperty("proof").EnumerateArray().Select(p => Convert.FromHexString(p.GetString()!)).ToArray(),
                Convert.FromHexString(c.GetProperty("root1").GetString()!), Convert.FromHexString(c.GetProperty("root2").GetString()!)));
        }
    }
}
