using Grpc.Core;

namespace Exchange.Client;

/// <summary>A channel that hands out a call invoker made elsewhere (by <c>GrpcClientFactory</c>), so generated clients of other services can share it.</summary>
internal sealed class CallInvokerChannel(string target, CallInvoker invoker) : ChannelBase(target)
{
    public override CallInvoker CreateCallInvoker() => invoker;
}
