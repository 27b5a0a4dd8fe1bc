namespace Exchange.Server.Access.Model;

/// <summary>A grant's state, computed when read (TermsPolicy.StateOf); the numbers are those of exchange.v1.GrantState.</summary>
internal enum GrantState
{
    Active = 1,
    Revoked = 2,
    Expired = 3,
    Exhausted = 4,
}
