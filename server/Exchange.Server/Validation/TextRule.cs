namespace Exchange.Server.Validation;

/// <summary>
/// What one free-text request field may hold: at most <paramref name="MaxLength"/> characters
/// (UTF-16 code units), and for a repeated field at most <paramref name="MaxItems"/> values.
/// A multi-line field may hold line feeds and tabs inside, never at its end; no field holds any
/// other control character.
/// </summary>
internal sealed record TextRule(int MaxLength, bool MultiLine = false, int MaxItems = 32);
