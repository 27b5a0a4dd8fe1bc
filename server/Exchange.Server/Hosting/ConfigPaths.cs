namespace Exchange.Server.Hosting;

/// <summary>Resolves file paths given in configuration.</summary>
internal static class ConfigPaths
{
    /// <summary>
    /// A relative path is tried against the working directory first, then against the
    /// application's own folder, so <c>certs-dev/...</c> works both from a checkout and
    /// from a published build that carries the files with it.
    /// </summary>
    public static string Resolve(string path)
    {
        if (Path.IsPathRooted(path))
        {
            return path;
        }

        var fromWorkingDirectory = Path.GetFullPath(path);
        if (File.Exists(fromWorkingDirectory) || Directory.Exists(fromWorkingDirectory))
        {
            return fromWorkingDirectory;
        }

        return Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, path));
    }
}
