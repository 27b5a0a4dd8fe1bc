namespace Exchange.WebConsole.Verification;

/// <summary>The outcome of a check made in the browser.</summary>
public enum VerdictState
{
    /// <summary>Not checked yet.</summary>
    Pending,

    /// <summary>Everything checked out.</summary>
    Verified,

    /// <summary>Something did not verify: the page turns red.</summary>
    Failed,

    /// <summary>Newer than the newest signed checkpoint: nothing to check it against yet.</summary>
    NotYetSigned,
}
