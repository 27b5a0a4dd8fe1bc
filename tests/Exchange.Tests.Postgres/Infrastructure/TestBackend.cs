namespace Exchange.Tests.Infrastructure;

/// <summary>This assembly runs the shared contract tests on the scale-out backend: a fresh PostgreSQL database and bucket prefix per gateway, on the test run's own cluster and s3rver.</summary>
public static class TestBackend
{
    public const bool Postgres = true;
}
