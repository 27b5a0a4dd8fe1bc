using Exchange.Client.Audit;
using Exchange.Tests.Infrastructure;
using Exchange.Transparency;

namespace Exchange.Tests.Client.Audit;

/// <summary>The trusted-logs file: one entry per log identity, kept whole under concurrent saves.</summary>
public sealed class TrustedCheckpointStoreTests : IDisposable
{
    private readonly TemporaryDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    private static string Note(NSec.Cryptography.Key key, string origin, long size, string logId) =>
        CheckpointForgery.Sign(new CheckpointNote(origin, size, new byte[32], logId), key, origin);

    [Fact]
    public async Task Saves_of_different_logs_at_once_keep_every_log_and_a_later_checkpoint_replaces_its_own_log_only()
    {
        var store = new TrustedCheckpointStore(Path.Combine(_folder.Path, "logs.json"));
        var (key, verifier) = CheckpointForgery.FreshKey("example.org/log");
        using (key)
        {
            var ids = Enumerable.Range(0, 64).Select(i => $"{i:x2}{new string('0', 30)}").ToList();
            await Task.WhenAll(ids.Select(id => Task.Run(() => store.Save(verifier, Note(key, "example.org/log", 1, id)))));
            Assert.Equal(ids, store.Logs().Select(l => l.LogId).Order(StringComparer.Ordinal));

            store.Save(verifier, Note(key, "example.org/log", 5, ids[3]));
            Assert.Equal(64, store.Logs().Count);
            Assert.Equal(5, store.Logs().Single(l => l.LogId == ids[3]).Size);
            Assert.All(store.Logs().Where(l => l.LogId != ids[3]), l => Assert.Equal(1, l.Size));
        }
    }

    [Fact]
    public void A_file_that_is_not_a_trusted_logs_file_is_a_format_error_naming_it()
    {
        var path = Path.Combine(Directory.CreateDirectory(_folder.Path).FullName, "logs.json");
        File.WriteAllText(path, "{\"something\": 1}");
        var error = Assert.Throws<FormatException>(() => new TrustedCheckpointStore(path).Logs());
        Assert.Contains(path, error.Message);
    }
}
