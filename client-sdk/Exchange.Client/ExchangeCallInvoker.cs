using Grpc.Core;

namespace Exchange.Client;

/// <summary>The typed client <c>AddGrpcClient</c> makes for an <see cref="ExchangeClient"/>: only its call invoker is used.</summary>
internal sealed class ExchangeCallInvoker(CallInvoker invoker)
{
    public CallInvoker Invoker { get; } = invoker;
}
