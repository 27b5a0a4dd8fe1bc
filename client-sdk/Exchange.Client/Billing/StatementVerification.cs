using Exchange.V1;

namespace Exchange.Client.Billing;

/// <summary>The outcome of checking a statement against the log: what was compared, and every difference found.</summary>
public sealed record StatementVerification
{
    /// <summary>True when nothing differs and every event used was proven in the signed log.</summary>
    public bool Succeeded => Differences.Count == 0;

    /// <summary>The statement as the gateway gave it, every page.</summary>
    public required Statement Statement { get; init; }

    /// <summary>One sentence per difference: a line the log does not bear out, a charge missing from the statement, an event charged wrongly or not at all.</summary>
    public required IReadOnlyList<string> Differences { get; init; }

    /// <summary>Charges recomputed from their events and offers (the statement's, and the earlier ones of the same grants and months).</summary>
    public int ChargesRecomputed { get; init; }

    /// <summary>The participant's receipts in the period (completed transfers, answered queries) checked for their charge.</summary>
    public int ReceiptsChecked { get; init; }

    /// <summary>Events proven included in the checkpoint of this size.</summary>
    public long CheckpointSize { get; init; }
}
