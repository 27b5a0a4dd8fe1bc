using System.Security.Cryptography;

namespace Exchange.Server.Transfers;

/// <summary>
/// Encrypted revision files under <c>{data}/blobs</c>. A file is written under <c>tmp/</c>,
/// flushed to disk, then moved into place; only a committed revision row makes it reachable, and
/// leftovers of interrupted uploads (in tmp/, or moved but never committed) are removed on start.
/// </summary>
internal sealed class LocalBlobStore(string root) : IBlobStore
{
    public string Root { get; } = root;

    private string TempDirectory => Path.Combine(Root, "tmp");

    public static string NewBlobId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public string PathOf(string blobId) => Path.Combine(Root, blobId[..2], blobId);

    public Task<IBlobSink> CreateAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(TempDirectory);
        var blobId = NewBlobId();
        return Task.FromResult<IBlobSink>(new LocalBlobSink(this, blobId, Path.Combine(TempDirectory, $"{blobId}.part")));
    }

    public Task<Stream> OpenReadAsync(string blobId, long offset, CancellationToken cancellationToken)
    {
        var stream = new FileStream(PathOf(blobId), FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0,
            FileOptions.Asynchronous | FileOptions.SequentialScan);
        stream.Position = offset;
        return Task.FromResult<Stream>(stream);
    }

    public Task DeleteAsync(string blobId, CancellationToken cancellationToken)
    {
        DeleteQuietly(PathOf(blobId));
        return Task.CompletedTask;
    }

    public Task<int> RemoveLeftoversAsync(IReadOnlySet<string> referenced, CancellationToken cancellationToken) =>
        Task.FromResult(RemoveLeftovers(referenced));

    /// <summary>Moves a finished temporary file to its place as <paramref name="blobId"/>.</summary>
    internal void Place(string temporaryPath, string blobId)
    {
        var target = PathOf(blobId);
        var directory = Path.GetDirectoryName(target)!;
        var created = !Directory.Exists(directory);
        Directory.CreateDirectory(directory);
        File.Move(temporaryPath, target);
        // The rename must be durable before a revision row points at the file.
        DirectFile.FlushDirectory(directory);
        if (created)
        {
            DirectFile.FlushDirectory(Root);
        }
    }

    public static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Removes everything not in <paramref name="referenced"/>: temporary files and blobs no revision points to.</summary>
    private int RemoveLeftovers(IReadOnlySet<string> referenced)
    {
        if (!Directory.Exists(Root))
        {
            return 0;
        }

        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories))
        {
            var inTemp = Path.GetDirectoryName(file) == TempDirectory;
            if (inTemp || !referenced.Contains(Path.GetFileName(file)))
            {
                DeleteQuietly(file);
                removed++;
            }
        }

        return removed;
    }
}
