namespace Exchange.Server.Participants.Model;

/// <summary>Whether a participant may call the exchange; the numbers are those stored and of exchange.v1.ParticipantState.</summary>
internal enum ParticipantState
{
    Active = 1,
    Suspended = 2,
}
