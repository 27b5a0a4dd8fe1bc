using Exchange.Tests.Smoke;

namespace Exchange.Tests.WebConsole;

/// <summary>Debian's Chromium, which the browser tests drive (Playwright's own browser download is not reachable).</summary>
internal static class Chromium
{
    /// <summary>$CHROMIUM, or the first of the usual install paths that exists; null when there is none.</summary>
    public static string? Find()
    {
        string?[] candidates = [Environment.GetEnvironmentVariable("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
        return candidates.FirstOrDefault(c => !string.IsNullOrEmpty(c) && File.Exists(c));
    }

    /// <summary>Fails when CI requires the browser (EXCHANGE_REQUIRE_BACKENDS=1), else skips, when there is no Chromium.</summary>
    public static string Require()
    {
        var path = Find();
        if (path is null)
        {
            Assert.False(Tools.Required, "chromium is required (EXCHANGE_REQUIRE_BACKENDS=1); install it: apt-get install -y chromium");
            Skip.If(true, "chromium is not installed (apt-get install -y chromium); the console's browser tests did not run");
        }

        return path!;
    }

    /// <summary>Where the tests save a screenshot of each main page: artifacts/console-screenshots in the repository.</summary>
    public static string ScreenshotDirectory()
    {
        var directory = Environment.GetEnvironmentVariable("EXCHANGE_SCREENSHOTS") is { Length: > 0 } set
            ? set
            : Path.Combine(Tools.RepositoryRoot(), "artifacts", "console-screenshots");
        Directory.CreateDirectory(directory);
        return directory;
    }
}
