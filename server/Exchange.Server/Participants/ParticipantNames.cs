using Exchange.Server.Security;

namespace Exchange.Server.Participants;

/// <summary>Resource names <c>participants/{id}</c>, the id being a <see cref="ParticipantId"/>.</summary>
internal static class ParticipantNames
{
    private const string Prefix = "participants/";

    public static string Format(string id) => Prefix + id;

    /// <summary>The participant id in a name, or INVALID_ARGUMENT naming <paramref name="field"/>.</summary>
    public static string Parse(string name, string field = "name")
    {
        if (string.IsNullOrEmpty(name))
        {
            throw Errors.InvalidArgument($"{field} is required: a participant name like 'participants/acme'.");
        }

        var id = name.StartsWith(Prefix, StringComparison.Ordinal) ? name[Prefix.Length..] : null;
        return ParticipantId.IsValid(id)
            ? id!
            : throw Errors.InvalidArgument($"{field} '{name}' is not a participant name; expected 'participants/{{id}}', the id {ParticipantId.Rule}.");
    }
}
