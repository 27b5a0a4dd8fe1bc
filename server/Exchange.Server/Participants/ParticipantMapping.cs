using Exchange.Server.Participants.Model;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Server.Participants;

/// <summary>Participants' domain types to and from the contract's exchange.v1 messages, at the edge.</summary>
internal static class ParticipantMapping
{
    public static V1.Participant ToProto(this Participant participant) => new()
    {
        Name = ParticipantNames.Format(participant.Id),
        State = (V1.ParticipantState)(int)participant.State,
        SuspendReason = participant.SuspendReason,
        SuspendTime = participant.SuspendTime is { } suspended ? Timestamp.FromDateTimeOffset(suspended) : null,
        UpdateTime = participant.UpdateTime is { } updated ? Timestamp.FromDateTimeOffset(updated) : null,
    };

    /// <summary>A state filter: null for PARTICIPANT_STATE_UNSPECIFIED (any state).</summary>
    public static ParticipantState? FromProto(V1.ParticipantState state) =>
        state == V1.ParticipantState.Unspecified ? null : (ParticipantState)(int)state;
}
