using System.Security.Cryptography;
using Google.Protobuf;

namespace Exchange.Server.Tables;

/// <summary>What a rule's fields mean when left at zero, and its version as the log names it.</summary>
internal static class AnalysisRules
{
    public const long DefaultMinIdentities = 10;

    public static long MinIdentities(V1.AnalysisRule rule) => rule.MinIdentities == 0 ? DefaultMinIdentities : rule.MinIdentities;

    public static long MaxRowsPerIdentity(V1.DifferentialPrivacy privacy) => privacy.MaxRowsPerIdentity == 0 ? 1 : privacy.MaxRowsPerIdentity;

    /// <summary>The rule's version: SHA-256 of its encoding, so a query's event says exactly which rule it ran under.</summary>
    /// <summary>The δ of a rule's privacy as a power of ten: δ = 10^-n (0 given: 6).</summary>
    public static int DeltaExponent(V1.DifferentialPrivacy privacy) => privacy.DeltaExponent == 0 ? 6 : privacy.DeltaExponent;

    public static string Version(V1.AnalysisRule rule) => Convert.ToHexStringLower(SHA256.HashData(rule.ToByteArray()));

    /// <summary>Thousandths of epsilon as a decimal number, e.g. 1500 → "1.5".</summary>
    public static string Epsilon(long millis) => (millis / 1000m).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
