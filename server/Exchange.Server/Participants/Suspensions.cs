using System.Collections.Frozen;
using System.Globalization;

namespace Exchange.Server.Participants;

/// <summary>
/// The suspended participants, in memory, so that refusing their calls costs one lookup and no
/// query: loaded from the database at start, changed on this replica right after a suspension or
/// reinstatement commits, and on other replicas sharing the database when it is announced on
/// <see cref="Channel"/>. Each change carries the row's version, so a late or repeated
/// announcement never undoes a newer change.
/// </summary>
internal sealed class Suspensions : Storage.IReplicaListener
{
    /// <summary>The channel on which a shared database announces a participant's new state to every replica.</summary>
    public const string Channel = "exchange_participant_state";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, long> _versions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _reasons = new(StringComparer.Ordinal);
    private volatile FrozenDictionary<string, string> _suspended = FrozenDictionary<string, string>.Empty;

    // Keyed by participant: a suspension cancels the token of every stream the participant has open on this replica.
    private readonly StopSignals _streams = new();

    /// <summary>Whether anyone is suspended at all: when nobody is, a call needs no lookup.</summary>
    public bool Any => _suspended.Count > 0;

    /// <summary>The reason <paramref name="participant"/> is suspended, or null when it is not.</summary>
    public string? ReasonFor(string participant) => _suspended.GetValueOrDefault(participant);

    /// <summary>A token cancelled when <paramref name="participant"/> is suspended; dispose the lease when its stream ends.</summary>
    public StopSignals.Lease Watch(string participant) => _streams.Watch(participant);

    string Storage.IReplicaListener.Channel => Channel;

    void Storage.IReplicaListener.Heard(string payload) => TryApply(payload);

    /// <summary>Takes every stored state: at start, and when a replica reconnects to the announcements.</summary>
    async Task Storage.IReplicaListener.CatchUpAsync(System.Data.Common.DbConnection connection, CancellationToken cancellationToken) =>
        Load(await ParticipantStore.LoadStatesAsync(connection, cancellationToken));

    /// <summary>Takes <paramref name="participant"/>'s state at <paramref name="version"/>, unless a newer one is known already.</summary>
    public void Apply(string participant, long version, bool suspended, string reason)
    {
        lock (_gate)
        {
            if (Take(participant, version, suspended, reason))
            {
                _suspended = _reasons.ToFrozenDictionary(StringComparer.Ordinal);
            }
        }

        if (suspended)
        {
            _streams.Stop(participant);
        }
    }

    /// <summary>Takes every stored state (at start, or when a replica reconnects to the announcements).</summary>
    public void Load(IEnumerable<StoredState> states)
    {
        lock (_gate)
        {
            var changed = false;
            foreach (var state in states)
            {
                changed |= Take(state.Participant, state.Version, state.Suspended, state.Reason);
            }

            if (changed)
            {
                _suspended = _reasons.ToFrozenDictionary(StringComparer.Ordinal);
            }
        }

        foreach (var participant in _streams.Watched().Where(p => ReasonFor(p) is not null))
        {
            _streams.Stop(participant);
        }
    }

    /// <summary>An announcement's payload: version, participant, 1 or 0, reason (single-line text, RequestText).</summary>
    public static string Payload(StoredState state) =>
        string.Join('\n', state.Version.ToString(CultureInfo.InvariantCulture), state.Participant, state.Suspended ? "1" : "0", state.Reason);

    /// <summary>Applies an announcement's payload; false when it is not one.</summary>
    public bool TryApply(string payload)
    {
        var parts = payload.Split('\n', 4);
        if (parts.Length != 4 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var version) ||
            parts[2] is not ("0" or "1"))
        {
            return false;
        }

        Apply(parts[1], version, parts[2] == "1", parts[3]);
        return true;
    }

    private bool Take(string participant, long version, bool suspended, string reason)
    {
        if (_versions.TryGetValue(participant, out var known) && known >= version)
        {
            return false;
        }

        _versions[participant] = version;
        if (suspended)
        {
            _reasons[participant] = reason;
        }
        else
        {
            _reasons.Remove(participant);
        }

        return true;
    }
}

/// <summary>A participant's stored state as the in-memory set needs it.</summary>
internal sealed record StoredState(string Participant, long Version, bool Suspended, string Reason);
