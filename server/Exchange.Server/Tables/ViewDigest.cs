using System.Security.Cryptography;
using Exchange.V1;
using Google.Protobuf;

namespace Exchange.Server.Tables;

/// <summary>The SHA-256 of a view's protobuf encoding: what the log records of a view, so both parties can check which one applied.</summary>
internal static class ViewDigest
{
    public static byte[] Of(View view) => SHA256.HashData(view.ToByteArray());

    public static string Hex(View view) => Convert.ToHexStringLower(Of(view));
}
