using System.Security.Cryptography;
using Exchange.Client;
using Exchange.Server.Hosting;
using Exchange.Tests.Access;
using Exchange.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Exchange.Tests.Hosting;

public sealed class ConnectionBlockPoolTests(ITestOutputHelper output)
{
    private const int FullRecord = 16 * 1024;

    [Fact]
    public void A_rental_disposed_twice_returns_its_block_once()
    {
        var pool = new ConnectionBlockPool();
        var first = pool.Rent();
        Assert.Equal(FullRecord, first.Memory.Length);
        first.Dispose();
        using var second = pool.Rent();
        first.Dispose();

        using var third = pool.Rent();
        Assert.False(second.Memory.Span.Overlaps(third.Memory.Span), "two renters were handed the same memory");
        Assert.Throws<ObjectDisposedException>(() => first.Memory);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(FullRecord + 1));
    }

    [Fact]
    [Trait("Category", "Slow")] // starts the gateway's process
    public async Task A_download_reaches_the_client_in_full_tls_records()
    {
        var data = Path.Combine(Path.GetTempPath(), "exchange-records", Guid.NewGuid().ToString("N"));
        try
        {
            await using var gateway = new GatewayProcess(data, output.WriteLine);
            await gateway.StartAsync();
            await using var relay = new TlsRecordRelay(gateway.Address.Port);
            using var acme = gateway.Client(Participant.Acme);
            using var initech = new ExchangeClient(new ExchangeClientOptions
            {
                Address = relay.Address,
                CaCertificateFile = GatewayProcess.CaFile,
            }.UseToken(ExchangeFactory.Token(Participant.Initech.Id, Participant.Initech.Roles)));

            var content = RandomNumberGenerator.GetBytes(4 * 1024 * 1024);
            var dataset = await Load.LoadHarness.PublishedAsync(acme, content);
            var grant = await acme.ApproveAsync(await initech.RequestAsync(dataset));

            var (_, bytes, _) = await initech.DownloadAllAsync(grant.Name);

            Assert.Equal(content, bytes);
            var lengths = relay.ServerRecordLengths;
            long all = lengths.Sum(), inFull = lengths.Where(l => l > FullRecord).Sum();
            output.WriteLine($"{lengths.Count} records, {all} bytes, {inFull} in records over {FullRecord} bytes; the longest {lengths.Max()}");

            // Each record carries its 16 KiB of plaintext plus the content type and tag. Kestrel's
            // own 4 KiB blocks made every record of a download 4113 bytes: four times the records
            // to seal and open, and a quarter of the bytes in each.
            Assert.True(inFull > 0.9 * content.Length, $"only {inFull} of the {content.Length} bytes came in full records");
            Assert.True(lengths.Max() <= FullRecord + 256, $"a record of {lengths.Max()} bytes is longer than TLS allows");
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }
}
