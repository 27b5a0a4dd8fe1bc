using Grpc.Core;

namespace Exchange.Tests.Infrastructure;

internal static class Rpc
{
    /// <summary>Awaits a call that must fail with <paramref name="code"/>; returns its exception.</summary>
    public static async Task<RpcException> FailsWith(StatusCode code, Func<Task> call)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(ex.StatusCode == code, $"expected {code}, got {ex.StatusCode}: {ex.Status.Detail}");
        return ex;
    }

    public static Task<RpcException> FailsWith<T>(StatusCode code, AsyncUnaryCall<T> call) =>
        FailsWith(code, async () => await call);

    /// <summary>How a call as <paramref name="token"/> to list datasets ends: OK or its status (for waiting until a key change applies).</summary>
    public static async Task<StatusCode> ListDatasetsStatusAsync(ExchangeFactory factory, string token)
    {
        using var client = factory.ClientWithToken(token);
        try
        {
            await client.Catalog.ListDatasetsAsync(new Exchange.V1.ListDatasetsRequest());
            return StatusCode.OK;
        }
        catch (RpcException ex)
        {
            return ex.StatusCode;
        }
    }
}
