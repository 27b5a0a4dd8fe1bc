namespace Exchange.Tests.Infrastructure;

/// <summary>A directory of a test's own under the system's temporary one (created by whoever writes to it first), removed with all it holds when disposed.</summary>
internal sealed class TemporaryDirectory : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "exchange-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
