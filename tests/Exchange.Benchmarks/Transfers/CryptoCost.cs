using System.Diagnostics;
using System.Security.Cryptography;

namespace Exchange.Benchmarks.Transfers;

/// <summary>
/// The CPU seconds per GiB of the cryptography the gateway must add to a transfer, measured in
/// this process on chunk-sized buffers: SHA-256 of what is uploaded, and AES-256-GCM at rest
/// (sealing on upload, opening on download, at about the same cost). Bare gRPC does neither, so
/// this is the least the gateway can cost above it, and it bounds the ratio it can reach.
/// </summary>
internal static class CryptoCost
{
    private const long Measured = 256L * 1024 * 1024;

    /// <summary>The least of <paramref name="attempts"/> measurements of <paramref name="bytes"/> each (256 MiB, 3 by default).</summary>
    public static (double Sha256, double AesGcm) PerGiB(int chunk, long bytes = Measured, int attempts = 3)
    {
        var plain = RandomNumberGenerator.GetBytes(chunk);
        var sealedBytes = new byte[chunk];
        var tag = new byte[16];
        var nonce = new byte[12];
        using var aes = new AesGcm(RandomNumberGenerator.GetBytes(32), tag.Length);
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunks = (int)Math.Max(1, bytes / chunk);
        var scale = 1073741824.0 / ((double)chunks * chunk);

        // The best of three, and per attempt the lesser of wall-clock and process CPU time: the
        // machine's noise only ever adds time, and a thread of ours preempted does not count.
        double hash = double.MaxValue, seal = double.MaxValue;
        for (var attempt = 0; attempt < attempts; attempt++)
        {
            hash = Math.Min(hash, Time(() =>
            {
                for (var i = 0; i < chunks; i++)
                {
                    sha256.AppendData(plain);
                }

                sha256.GetHashAndReset();
            }) * scale);
            seal = Math.Min(seal, Time(() =>
            {
                for (var i = 0; i < chunks; i++)
                {
                    aes.Encrypt(nonce, plain, sealedBytes, tag);
                }
            }) * scale);
        }

        return (hash, seal);
    }

    private static double Time(Action work)
    {
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        work();
        var wall = watch.Elapsed.TotalSeconds;
        process.Refresh();
        return Math.Min(wall, (process.TotalProcessorTime - cpu).TotalSeconds);
    }
}
