using System.Security.Cryptography;
using System.Text;

namespace Exchange.Server.Tables;

/// <summary>
/// The key each grant's HASH masks use, derived from a secret of the exchange (shared by its
/// replicas): the same value hashes the same within one grant, so it still joins there, and
/// differently under any other grant, so two consumers cannot join what they received.
/// </summary>
internal sealed class MaskKeys(byte[] secret)
{
    public byte[] For(string grant) => HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes("exchange view hash mask v1\n" + grant));
}
