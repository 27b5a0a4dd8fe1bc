using System.Data.Common;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Google.Protobuf;

namespace Exchange.Server.Storage;

/// <summary>
/// AIP-155 request ids: a Create call retried with the same request_id returns what the first
/// call created instead of creating it again. The id is scoped to the caller and the method,
/// and bound to the request's content, so reusing it for a different request is an error.
/// </summary>
internal static partial class IdempotencyKeys
{
    /// <summary>Checks the shape of a request_id (empty means the call is not idempotent).</summary>
    public static void Validate(string requestId)
    {
        if (requestId.Length > 0 && !Pattern().IsMatch(requestId))
        {
            throw Errors.InvalidArgument(
                "request_id must be 1-64 characters of letters, digits, '-', '_', '.' or ':' (a UUID works).");
        }
    }

    /// <summary>A fingerprint of the request without its request_id.</summary>
    public static byte[] Fingerprint<T>(T request, Action<T> clearRequestId) where T : IMessage<T>
    {
        var copy = request.Clone();
        clearRequestId(copy);
        return SHA256.HashData(copy.ToByteArray());
    }

    /// <summary>
    /// The resource a previous call with this request_id created, or null; a <see cref="Refusal"/>
    /// (INVALID_ARGUMENT) when that call was a different request.
    /// </summary>
    public static string? Find(DbConnection connection, DbTransaction transaction,
        string participant, string method, string requestId, byte[] fingerprint)
    {
        using var command = connection.Command(
            "SELECT fingerprint, resource FROM idempotency_keys WHERE participant = @p AND method = @m AND request_id = @r",
            transaction)
            .With("@p", participant).With("@m", method).With("@r", requestId);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        if (!((byte[])reader[0]).AsSpan().SequenceEqual(fingerprint))
        {
            throw Refusal.Invalid(
                $"request_id '{requestId}' was already used for a different {method} request; use a new request_id for a new request.");
        }

        return reader.GetString(1);
    }

    public static void Remember(DbConnection connection, DbTransaction transaction,
        string participant, string method, string requestId, byte[] fingerprint, string resource, long nowMicros)
    {
        connection.Command(
            "INSERT INTO idempotency_keys (participant, method, request_id, fingerprint, resource, create_time) " +
            "VALUES (@p, @m, @r, @f, @res, @t)", transaction)
            .With("@p", participant).With("@m", method).With("@r", requestId)
            .With("@f", fingerprint).With("@res", resource).With("@t", nowMicros)
            .ExecuteNonQuery();
    }

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,64}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
