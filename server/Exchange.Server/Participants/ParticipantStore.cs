using System.Data.Common;
using Exchange.Server.Audit;
using Exchange.Server.Paging;
using Exchange.Server.Participants.Model;
using Exchange.Server.Security;
using Exchange.Server.Storage;

namespace Exchange.Server.Participants;

/// <summary>
/// Participants' states in the database. The gateway keeps no registry of participants (they come
/// from tokens): a row exists once an operator has changed a participant's state, and a
/// participant without one is ACTIVE. Every change checks the caller's rights and the current
/// state inside the writer's transaction and records itself there, a denial included.
/// </summary>
internal sealed class ParticipantStore(Database database)
{
    private const string Columns = "p.id, p.state, p.suspend_reason, p.suspend_time, p.update_time, p.version";

    /// <summary>The participant's state; ACTIVE with no times when nothing was ever recorded for it.</summary>
    public Task<Participant> GetAsync(string id, CancellationToken cancellationToken) =>
        database.ReadAsync(async (connection, ct) =>
        {
            using var command = FindCommand(connection, null, id);
            var rows = await command.ListAsync(reader => Read(reader, 0), ct);
            return rows.SingleOrDefault()?.Participant ?? Participant.Active(id);
        }, cancellationToken);

    /// <summary>One page of the participants with a recorded state, in the order of their first change, after <paramref name="after"/>.</summary>
    public Task<(IReadOnlyList<Participant> Page, long? Next)> ListAsync(ParticipantState? state, long after, int pageSize,
        CancellationToken cancellationToken) =>
        database.ReadAsync<(IReadOnlyList<Participant>, long?)>(async (connection, ct) =>
        {
            using var command = connection.Command($"""
                SELECT p.seq, {Columns} FROM participants p
                WHERE p.seq > @after AND (@state = 0 OR p.state = @state)
                ORDER BY p.seq LIMIT @limit
                """).With("@after", after).With("@state", (int?)state ?? 0).With("@limit", pageSize + 1);
            var rows = await command.ListAsync(reader => (reader.GetInt64(0), Read(reader, 1).Participant), ct);
            return KeysetPage.From(rows, pageSize);
        }, cancellationToken);

    /// <summary>Suspends an ACTIVE participant other than the calling operator; returns it and the state to announce.</summary>
    public Task<Decision<(Participant Participant, StoredState State)>> SuspendAsync(Caller caller, string id, string reason,
        CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<(Participant, StoredState)>>(unit =>
        {
            if (!ParticipantPolicy.CanChange(caller))
            {
                return DenyChange(unit, caller, id, AuditActions.ParticipantSuspend, "suspend");
            }

            if (id == caller.Participant)
            {
                throw Refusal.Precondition($"An operator cannot suspend itself ('{ParticipantNames.Format(id)}'); another operator can.");
            }

            var row = Find(unit, id);
            if (row?.Participant.State == ParticipantState.Suspended)
            {
                throw Refusal.Precondition(
                    $"'{ParticipantNames.Format(id)}' is already suspended: {row.Participant.SuspendReason}. Reinstate it first to suspend it anew.");
            }

            return Change(unit, caller, id, row, ParticipantState.Suspended, reason, AuditActions.ParticipantSuspend);
        }, cancellationToken);

    /// <summary>Lifts a participant's suspension; returns it and the state to announce.</summary>
    public Task<Decision<(Participant Participant, StoredState State)>> ReinstateAsync(Caller caller, string id, string reason,
        CancellationToken cancellationToken) =>
        database.WriteAsync<Decision<(Participant, StoredState)>>(unit =>
        {
            if (!ParticipantPolicy.CanChange(caller))
            {
                return DenyChange(unit, caller, id, AuditActions.ParticipantReinstate, "reinstate");
            }

            var row = Find(unit, id);
            if (row?.Participant.State != ParticipantState.Suspended)
            {
                throw Refusal.Precondition($"'{ParticipantNames.Format(id)}' is active; only a suspended participant can be reinstated.");
            }

            return Change(unit, caller, id, row, ParticipantState.Active, reason, AuditActions.ParticipantReinstate);
        }, cancellationToken);

    /// <summary>Every recorded state, for the in-memory set of suspensions.</summary>
    internal static async Task<List<StoredState>> LoadStatesAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.Command($"SELECT {Columns} FROM participants p");
        return await command.ListAsync(reader => Read(reader, 0).State, cancellationToken);
    }

    /// <summary>Records and returns the denial of a caller who may not change participants' states.</summary>
    private static Denial DenyChange(WriteUnit unit, Caller caller, string id, string action, string verb) =>
        unit.Deny(new AuditEntry(caller.Participant, action, ParticipantNames.Format(id), Outcome.Denied, Subject: id),
            $"Only an operator may {verb} a participant.");

    private static (Participant, StoredState) Change(WriteUnit unit, Caller caller, string id, Row? row, ParticipantState state, string reason,
        string action)
    {
        var now = Timestamps.ToMicros(unit.Now);
        var suspended = state == ParticipantState.Suspended;
        unit.Command(row is null
                ? """
                  INSERT INTO participants (id, state, suspend_reason, suspend_time, update_time, version)
                  VALUES (@id, @state, @reason, @suspend, @now, 1)
                  """
                : """
                  UPDATE participants SET state = @state, suspend_reason = @reason, suspend_time = @suspend, update_time = @now,
                      version = version + 1
                  WHERE id = @id
                  """)
            .With("@id", id)
            .With("@state", (int)state)
            .With("@reason", suspended ? reason : "")
            .With("@suspend", suspended ? now : null)
            .With("@now", now)
            .ExecuteNonQuery();
        unit.Record(new AuditEntry(caller.Participant, action, ParticipantNames.Format(id), Outcome.Success, Subject: id,
            Details: reason.Length == 0 ? null : new Dictionary<string, string> { ["reason"] = reason }));

        var changed = Find(unit, id)!;
        unit.Announce(Suspensions.Channel, Suspensions.Payload(changed.State));
        return (changed.Participant, changed.State);
    }

    private static Row? Find(WriteUnit unit, string id)
    {
        using var command = FindCommand(unit.Connection, unit.Transaction, id);
        using var reader = command.ExecuteReader();
        return reader.Read() ? Read(reader, 0) : null;
    }

    private static DbCommand FindCommand(DbConnection connection, DbTransaction? transaction, string id) =>
        connection.Command($"SELECT {Columns} FROM participants p WHERE p.id = @id", transaction).With("@id", id);

    private static Row Read(DbDataReader reader, int o)
    {
        var id = reader.GetString(o);
        var participant = new Participant(
            id,
            State: (ParticipantState)reader.GetInt32(o + 1),
            SuspendReason: reader.GetString(o + 2),
            SuspendTime: reader.IsDBNull(o + 3) ? null : Timestamps.ToTime(reader.GetInt64(o + 3)),
            UpdateTime: Timestamps.ToTime(reader.GetInt64(o + 4)));
        return new Row(participant,
            new StoredState(id, reader.GetInt64(o + 5), participant.State == ParticipantState.Suspended, participant.SuspendReason));
    }

    private sealed record Row(Participant Participant, StoredState State);
}
