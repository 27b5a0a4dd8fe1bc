using System.Security.Cryptography;
using Exchange.Tests.Access;
using Exchange.Tests.Catalog;
using Exchange.Tests.Infrastructure;
using Exchange.V1;

namespace Exchange.Tests.Transfers;

/// <summary>What happens to revision files across restarts: key rotation and leftovers of interrupted uploads.</summary>
public sealed class RevisionStorageTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    private string[] Blobs() => [.. ExchangeFactory.BlobFiles(_directory.Path)];

    [Fact]
    public async Task Rotating_the_key_encryption_key_rewraps_data_keys_without_rewriting_data()
    {
        var content = RandomNumberGenerator.GetBytes(100_000);
        string grant;
        using (var first = ExchangeFactory.Over(_directory.Path))
        {
            using var acme = first.As(Participant.Acme);
            using var initech = first.As(Participant.Initech);
            var dataset = await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
            await acme.UploadAsync(dataset.Name, new MemoryStream(content));
            grant = (await acme.ApproveAsync(await initech.RequestAsync(dataset))).Name;
        }

        var before = Blobs().Select(f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))).ToArray();
        var newKey = Path.Combine(_directory.Path, "kek-2026.key");
        await File.WriteAllTextAsync(newKey, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        var oldKey = Path.Combine(_directory.Path, "keys", "kek-local.key");

        using (var rotating = ExchangeFactory.Over(_directory.Path, keepData: true,
            ("Exchange:Encryption:KeyFiles:local", oldKey), ("Exchange:Encryption:KeyFiles:k2026", newKey), ("Exchange:Encryption:PrimaryKeyId", "k2026")))
        {
            using var initech = rotating.As(Participant.Initech);
            Assert.Equal(content, (await initech.DownloadAllAsync(grant)).Bytes);
        }

        // The old key can go: every data key is now wrapped by the new one.
        using (var rotated = ExchangeFactory.Over(_directory.Path, keepData: true,
            ("Exchange:Encryption:KeyFiles:k2026", newKey), ("Exchange:Encryption:PrimaryKeyId", "k2026")))
        {
            using var initech = rotated.As(Participant.Initech);
            Assert.Equal(content, (await initech.DownloadAllAsync(grant)).Bytes);
        }

        Assert.Equal(before, Blobs().Select(f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))).ToArray());
    }

    [Fact]
    public async Task Leftovers_of_interrupted_uploads_are_removed_on_start_and_committed_revisions_stay()
    {
        // Files on local disk, whatever the test backend (the bucket's sweep has tests of its own).
        using (var first = ExchangeFactory.Over(_directory.Path, keepData: true, ("Exchange:Blobs:Kind", "local")))
        {
            using var acme = first.As(Participant.Acme);
            await CatalogFixture.CreateAsync(acme, DatasetState.Listed);
        }

        var kept = Assert.Single(Blobs());
        var temporary = Path.Combine(_directory.Path, "blobs", "tmp", "0123.part");
        var orphan = Path.Combine(_directory.Path, "blobs", "ff", "ff00000000000000000000000000000f");
        Directory.CreateDirectory(Path.GetDirectoryName(temporary)!);
        Directory.CreateDirectory(Path.GetDirectoryName(orphan)!);
        await File.WriteAllTextAsync(temporary, "half an upload");
        await File.WriteAllTextAsync(orphan, "moved into place, never committed");

        using (var restarted = ExchangeFactory.Over(_directory.Path, keepData: true, ("Exchange:Blobs:Kind", "local")))
        {
            _ = restarted.Server;
            Assert.Equal([kept], Blobs());
        }
    }
}
