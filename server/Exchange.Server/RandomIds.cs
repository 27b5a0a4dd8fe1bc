using System.Security.Cryptography;

namespace Exchange.Server;

/// <summary>Fresh ids for access requests, grants and transfers: 16 characters of [a-z0-9] (about 82 bits).</summary>
internal static class RandomIds
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    public static string New() => RandomNumberGenerator.GetString(Alphabet, 16);
}
