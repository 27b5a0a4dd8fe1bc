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
}
