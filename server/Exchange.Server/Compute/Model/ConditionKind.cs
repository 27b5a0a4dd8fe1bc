namespace Exchange.Server.Compute.Model;

/// <summary>What a <see cref="Condition"/> is: a test of one column, or a combination of conditions.</summary>
internal enum ConditionKind
{
    /// <summary>column operator literal.</summary>
    Compare,
    /// <summary>column [NOT] IN (literals).</summary>
    In,
    /// <summary>column IS [NOT] NULL.</summary>
    IsNull,
    And,
    Or,
    Not,
}
