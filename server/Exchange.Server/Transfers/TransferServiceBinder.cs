using Exchange.V1;
using Grpc.Core;

namespace Exchange.Server.Transfers;

/// <summary>
/// Binds the generated TransferService methods as they are, except that Upload reads its chunks
/// through <see cref="UploadRequestMarshaller"/>.
/// </summary>
internal sealed class TransferServiceBinder(ServiceBinderBase inner) : ServiceBinderBase
{
    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(method, handler);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler)
    {
        if (method is Method<UploadRequest, UploadResponse> upload)
        {
            inner.AddMethod(
                new Method<UploadRequest, UploadResponse>(upload.Type, upload.ServiceName, upload.Name,
                    UploadRequestMarshaller.Create(upload.RequestMarshaller), upload.ResponseMarshaller),
                (ClientStreamingServerMethod<UploadRequest, UploadResponse>?)(object?)handler);
            return;
        }

        inner.AddMethod(method, handler);
    }

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(method, handler);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(method, handler);
}
