namespace Exchange.Server.Hosting;

/// <summary>
/// The configuration cannot work (missing or forbidden keys, a database from a newer version):
/// the process says why on stderr and exits 1 instead of crashing with a stack trace.
/// </summary>
internal sealed class StartupException(string message) : Exception(message);
