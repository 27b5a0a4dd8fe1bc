namespace Exchange.Tests.Infrastructure;

/// <summary>
/// Tests of one class on one gateway, started once for the class (after grpc-dotnet's
/// FunctionalTestBase): each test makes its own datasets, requests and participants, so none
/// depends on another's data. After each test the gateway's error log is checked, so a server
/// error the test did not declare fails that test, not the class's cleanup; what a test declares
/// with <see cref="ExchangeFactory.ExpectErrors"/> holds until it ends. A test that needs its own
/// configuration, a restart or a log of its own starts a gateway of its own instead.
/// </summary>
public abstract class SharedGatewayTests<TGateway> : IClassFixture<TGateway>, IDisposable
    where TGateway : ExchangeFactory
{
    private readonly int _expectations;

    protected SharedGatewayTests(TGateway gateway)
    {
        Gateway = gateway;
        _expectations = gateway.Errors.ExpectationMark();
    }

    /// <summary>The class's gateway.</summary>
    protected TGateway Gateway { get; }

    public void Dispose()
    {
        Gateway.Errors.Check(Gateway.DataDirectory, GetType().Name, _expectations);
        GC.SuppressFinalize(this);
    }
}

/// <summary>Tests of one class on one gateway with the Development configuration.</summary>
public abstract class SharedGatewayTests(ExchangeFactory gateway) : SharedGatewayTests<ExchangeFactory>(gateway);
