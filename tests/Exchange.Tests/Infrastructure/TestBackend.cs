namespace Exchange.Tests.Infrastructure;

/// <summary>The database the contract tests of this assembly run on; Exchange.Tests.Postgres builds the same tests with its own copy of this file.</summary>
public static class TestBackend
{
    public const bool Postgres = false;
}
