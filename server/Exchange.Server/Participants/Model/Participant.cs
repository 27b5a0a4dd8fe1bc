namespace Exchange.Server.Participants.Model;

/// <summary>
/// A participant's state as the gateway records it; one never changed is ACTIVE with no times
/// (<see cref="UpdateTime"/> null) and no row.
/// </summary>
internal sealed record Participant(
    string Id,
    ParticipantState State,
    string SuspendReason,
    DateTimeOffset? SuspendTime,
    DateTimeOffset? UpdateTime)
{
    public static Participant Active(string id) => new(id, ParticipantState.Active, "", null, null);
}
